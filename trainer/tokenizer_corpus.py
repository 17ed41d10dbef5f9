"""A small built-in text corpus for training the default model's tokenizer.

Deterministic (no randomness, no files), mixed English and Chinese, with chat markup, so the
byte-level BPE learns merges that keep typical prompts short. Any UTF-8 text still encodes:
byte-level BPE falls back to single bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product

_ENGLISH = """
the a an and or but if then else when while for with without to from of in on at by
is are was were be been being have has had do does did will would can could should may
you your we our they their it its this that these those I me my he she him her them
hello hi thanks please sorry yes no ok good bad great terrible fast slow hot cold fresh
food order delivery restaurant meal rice noodles soup chicken beef pork fish tea coffee
review rating service driver package price taste portion spicy sweet salty late early
user assistant system model answer question help explain write summarize translate
positive negative neutral sentiment label classify example test train data
one two three four five six seven eight nine ten hundred thousand
""".split()

_CHINESE = """
好评 差评 外卖 送餐 配送 骑手 商家 味道 好吃 难吃 很好 不错 一般 太差 非常 满意 失望
快 慢 热 凉 新鲜 分量 价格 便宜 贵 服务 态度 包装 米饭 面条 汤 鸡肉 牛肉 饮料
下次 还会 再来 推荐 不会 再点 等了 一个 小时 准时 超时 冷了 洒了 干净 卫生
这家 店 的 了 很 也 都 还 就 是 不 没有 有 我 你 他 我们 评价 情感 分类 请 判断
""".split()

_PUNCT = [".", ",", "!", "?", "。", "，", "！", "？", ":", "\n"]
_ROLES = ["system", "user", "assistant"]


def corpus_lines() -> Iterator[str]:
    """Yield the corpus, one line at a time."""
    for a, b, c in product(_ENGLISH[:60], _ENGLISH[40:100], _PUNCT[:4]):
        yield f"{a} {b}{c}"
    for a, b, c in product(_CHINESE, _CHINESE[:40], _PUNCT[4:8]):
        yield f"{a}{b}{c}"
    for role, word in product(_ROLES, _ENGLISH + _CHINESE):
        yield f"<|im_start|>{role}\n{word}<|im_end|>\n"
    for n in range(0, 2000, 7):
        yield f"{n} {n * 3} {n % 97}"
