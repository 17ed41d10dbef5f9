"""Make the takeaway-review sentiment dataset (OpenAI ``messages`` JSONL).

    python examples/make_reviews.py --n 400 --seed 0 --out reviews.jsonl [--split]

With ``--split`` it also writes ``reviews.train.jsonl``, ``reviews.validation.jsonl`` and
``reviews.test.jsonl`` (80/10/10, same seed). The same seed always gives the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from trainer.datasets import split_examples, write_jsonl, write_split
from trainer.datasets.reviews import make_review_examples


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=400, help="number of reviews (default 400)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", type=Path, default=Path("reviews.jsonl"), help="output JSONL")
    parser.add_argument("--split", action="store_true", help="also write train/validation/test")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    examples = make_review_examples(args.n, seed=args.seed)
    write_jsonl(examples, args.out)
    print(f"wrote {len(examples)} examples to {args.out}")
    if args.split:
        paths = write_split(split_examples(examples, seed=args.seed), args.out)
        for part, path in paths.items():
            print(f"  {part}: {path}")


if __name__ == "__main__":
    main()
