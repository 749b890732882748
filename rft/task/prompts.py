"""The paper's Alpaca-style prompt, the training target that follows it, and the held-out document."""

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
    # The prompt ends at the colon; the space keeps the path's first word a word of its own for
    # the tokenizer. The reference training scripts add no space: a listed deviation
    # (docs/verification.md, section 10).
    return " " + answer_text.strip()


def heldout_text(question: str, solution: str) -> str:
    """One held-out document: the question, a blank line, the worked solution."""
    return f"{question.strip()}\n\n{solution.strip()}"
