"""Chat datasets in, validated examples out.

Reads OpenAI ``messages`` JSONL, ChatGLM3, Alpaca and ShareGPT (JSON or JSONL, detected per
file) and CSV with a column mapping; checks every record and names the file, line and field
of each problem; splits into train / validation / test; writes OpenAI ``messages`` JSONL,
the canonical on-disk format.
"""

from trainer.datasets.csv_source import convert_csv
from trainer.datasets.example import ROLES, ChatExample, Message, Role
from trainer.datasets.formats import FORMATS, DatasetFormat
from trainer.datasets.issues import MAX_REPORTED_ISSUES, DatasetError, DatasetIssue
from trainer.datasets.loader import ValidationReport, load_examples, validate_file
from trainer.datasets.split import DEFAULT_RATIOS, DatasetSplit, split_examples
from trainer.datasets.tokens import ChatTokenizer, count_tokens
from trainer.datasets.writer import split_paths, write_jsonl, write_split

__all__ = [
    "DEFAULT_RATIOS",
    "FORMATS",
    "MAX_REPORTED_ISSUES",
    "ROLES",
    "ChatExample",
    "ChatTokenizer",
    "DatasetError",
    "DatasetFormat",
    "DatasetIssue",
    "DatasetSplit",
    "Message",
    "Role",
    "ValidationReport",
    "convert_csv",
    "count_tokens",
    "load_examples",
    "split_examples",
    "split_paths",
    "validate_file",
    "write_jsonl",
    "write_split",
]
