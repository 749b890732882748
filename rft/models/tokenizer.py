"""A small byte-level BPE tokenizer trained locally, for tiny models trained from scratch.

Why these choices:
- Byte-level: every string encodes without `<unk>` and decodes back exactly, newlines and
  `<<3*4=12>>` annotations included, so sampled paths can be verified character for character.
- Digits split one per token: a 512-token vocabulary would otherwise learn "12", "24", ...
  as opaque symbols, and a tiny model cannot do arithmetic over those.
- `<s>` is prepended by the post-processor, so training and generation tokenise prompts the
  same way through the ordinary `tokenizer(text)` call.
"""

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIAL_TOKENS = [PAD, BOS, EOS, UNK]


def build_tokenizer(texts: Iterable[str], vocab_size: int = 512) -> PreTrainedTokenizerFast:
    """Train a BPE tokenizer on `texts`; specials `<pad>`, `<s>`, `</s>`, `<unk>`; left padding."""
    raw = Tokenizer(models.BPE(unk_token=UNK))
    raw.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            # No prefix space: decode(encode(x)) must give back x exactly.
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        # The full byte alphabet, so that unseen characters still encode.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    raw.train_from_iterator(texts, trainer=trainer)
    bos_id = raw.token_to_id(BOS)
    raw.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, bos_id)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=raw,
        pad_token=PAD,
        bos_token=BOS,
        eos_token=EOS,
        unk_token=UNK,
        padding_side="left",  # generation appends to the right end of every row
        clean_up_tokenization_spaces=False,  # would turn " ." into "." and break round-trips
    )
