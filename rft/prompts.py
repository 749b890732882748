"""The paper's Alpaca-style prompt, and the training target that follows it."""

PROMPT_TEMPLATE = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{question}\n\n### Response:"
)


def format_prompt(question: str) -> str:
    """The prompt for one question; the model continues right after `### Response:`."""
    return PROMPT_TEMPLATE.format(question=question)


def format_response(answer_text: str) -> str:
    """The training target for one reasoning path: a space, then the stripped path text."""
    # The prompt ends at the colon, so the space separates it from the path as in the paper.
    return " " + answer_text.strip()
