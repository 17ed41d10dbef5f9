"""The chat template of the embedded default model.

ChatML-style turns. The ``{% generation %}`` markers let transformers return a mask of the
assistant tokens, so training can put loss on assistant turns only; they render to nothing.
"""

from __future__ import annotations

import hashlib

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
END_OF_TEXT = "<|endoftext|>"

DEFAULT_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\\n' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{ '\\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def template_hash(template: str) -> str:
    """A short stable fingerprint of a chat template, stored with every adapter."""
    return hashlib.sha256(template.encode("utf-8")).hexdigest()[:16]
