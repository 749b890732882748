"""RFT in rounds (expert iteration): round r+1 samples from round r's RFT model."""
