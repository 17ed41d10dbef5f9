"""A tiny synthetic sentiment task: Chinese food-delivery reviews -> 好评 / 差评."""

from __future__ import annotations

import random

from trainer.sft.tokenize import Conversation

SYSTEM = "判断评价的情感，回答好评或差评"
POSITIVE = [
    "很好吃",
    "味道不错",
    "送餐很快",
    "分量很足",
    "服务态度很好",
    "非常满意",
    "包装干净",
    "下次还会再来",
    "推荐",
    "价格便宜",
]
NEGATIVE = [
    "太难吃了",
    "等了一个小时",
    "饭都凉了",
    "汤洒了",
    "送餐超时",
    "非常失望",
    "不会再点了",
    "分量太少",
    "服务态度太差",
    "价格太贵",
]
OPENERS = ["这家店", "今天的外卖", "骑手", "商家", "这次", "米饭", "牛肉面", ""]


def conversation(review: str, label: str) -> Conversation:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": review},
        {"role": "assistant", "content": label},
    ]


def _all_reviews(phrases: list[str]) -> list[str]:
    return [
        f"{opener}{first}，{second}"
        for opener in OPENERS
        for first in phrases
        for second in phrases
        if first != second
    ]


def keyword_splits(
    sizes: tuple[int, ...] = (200, 40, 40), seed: int = 0
) -> list[list[Conversation]]:
    """Disjoint splits of the given sizes, half 好评 and half 差评 each, shuffled."""
    rng = random.Random(seed)
    pools = {"好评": _all_reviews(POSITIVE), "差评": _all_reviews(NEGATIVE)}
    for pool in pools.values():
        rng.shuffle(pool)
    splits: list[list[Conversation]] = []
    for size in sizes:
        split = [
            conversation(pools[label].pop(), label)
            for label in ("好评", "差评")
            for _ in range(size // 2)
        ]
        rng.shuffle(split)
        splits.append(split)
    return splits
