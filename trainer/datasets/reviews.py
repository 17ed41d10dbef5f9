"""A synthetic takeaway-food review sentiment dataset, made from phrase lists and a seed.

Every review joins phrases of one sentiment (and perhaps a neutral opener), so the label can
be learned from keywords even by a tiny model, while the many combinations keep held-out
reviews new.
"""

from __future__ import annotations

import random

from trainer.datasets.example import ChatExample

REVIEW_SYSTEM_PROMPT = "判断这条外卖评价的情感，只回答 好评 或 差评。"
POSITIVE_LABEL = "好评"
NEGATIVE_LABEL = "差评"

POSITIVE_PHRASES = (
    "味道很好",
    "送餐很快",
    "分量很足",
    "包装很用心",
    "骑手态度很好",
    "菜很新鲜",
    "价格实惠",
    "还是热乎的",
    "肉很嫩",
    "汤很鲜",
    "米饭香软",
    "非常好吃",
    "下次还点",
    "比店里吃还好",
    "配送准时",
    "老板很贴心",
    "干净卫生",
    "口味正宗",
    "辣度刚刚好",
    "推荐大家试试",
    "性价比超高",
    "提前送到了",
    "菜量很大",
    "吃得很满意",
)
NEGATIVE_PHRASES = (
    "等了一个小时",
    "饭都凉了",
    "味道很差",
    "分量太少",
    "汤洒了一袋子",
    "菜是馊的",
    "骑手态度恶劣",
    "送错了地址",
    "太咸了没法吃",
    "肉不新鲜",
    "吃出了头发",
    "价格太贵",
    "再也不点了",
    "包装破了",
    "米饭是夹生的",
    "油太大了",
    "少送了一个菜",
    "配送超时",
    "客服不理人",
    "难吃得要命",
    "吃完肚子疼",
    "完全不值这个价",
    "菜都糊了",
    "一股怪味",
)
NEUTRAL_OPENERS = (
    "中午点的",
    "晚上加班点的",
    "第一次点这家",
    "点了宫保鸡丁",
    "给孩子点的",
    "点了两份套餐",
    "周末点的",
    "点的麻辣烫",
    "朋友推荐的",
    "点了一份盖饭",
)
ENDINGS = ("。", "！", "", "！！")


def make_review(rng: random.Random, positive: bool) -> str:
    """One review: maybe an opener, then two or three phrases of one sentiment."""
    phrases = POSITIVE_PHRASES if positive else NEGATIVE_PHRASES
    parts = rng.sample(phrases, rng.choice((2, 2, 3)))
    if rng.random() < 0.5:
        parts.insert(0, rng.choice(NEUTRAL_OPENERS))
    return "，".join(parts) + rng.choice(ENDINGS)


def review_example(review: str, label: str) -> ChatExample:
    """The classification prompt for ``review``, answered with ``label``."""
    return ChatExample.from_pairs(
        [("system", REVIEW_SYSTEM_PROMPT), ("user", review), ("assistant", label)]
    )


def make_review_examples(count: int, seed: int = 0) -> list[ChatExample]:
    """``count`` distinct reviews, half 好评 and half 差评 (one more 好评 when odd)."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    rng = random.Random(seed)
    labels = [POSITIVE_LABEL, NEGATIVE_LABEL] * (count // 2) + [POSITIVE_LABEL] * (count % 2)
    rng.shuffle(labels)
    seen: set[str] = set()
    examples: list[ChatExample] = []
    for label in labels:
        review = _new_review(rng, label == POSITIVE_LABEL, seen)
        seen.add(review)
        examples.append(review_example(review, label))
    return examples


def _new_review(rng: random.Random, positive: bool, seen: set[str], tries: int = 1000) -> str:
    for _ in range(tries):
        review = make_review(rng, positive)
        if review not in seen:
            return review
    raise ValueError("ran out of distinct reviews: ask for fewer examples")
