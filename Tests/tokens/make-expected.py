#!/usr/bin/env python3
"""Regenerates Tests/tokens/expected.json with tiktoken as the oracle.

Usage: TIKTOKEN_CACHE_DIR=... python3 Tests/tokens/make-expected.py
(needs `pip install tiktoken` and the rank files in tiktoken's cache).
The texts are the hand-picked cases below plus seeded random strings; long
pathological inputs store a count and the SHA-256 of their ids, not the ids.
"""
import hashlib, json, os, random, tiktoken

CASES = [
    "hello world", "Hello, World! How's it going? I'm fine, you'll see, they've, we're, she'd",
    "DON'T SHOUT 'LL 'VE 'RE 'S 'T 'M 'D", "'salut' 'ſ 'Ss", "The quick brown fox jumps over the lazy dog.\n",
    "def f(x):\n    return x * 2  # double\n\n\tif x:\n\t\tpass\n",
    "func fib(_ n: Int) -> Int { n < 2 ? n : fib(n - 1) + fib(n - 2) }",
    "(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))",
    '{"model": "gpt-4o", "usage": {"prompt_tokens": 12, "completion_tokens": 34}, "ok": true}',
    "12345678901234567890 3.14159 1,000,000 2026-11-22 0x1F",
    "a  b   c    d     e\n\n\n  \n \t \r\n\r\nend   ", "   leading and trailing   ", "\n\n\n", " ", "",
    "emoji: 🙂👍🏽🇫🇷👨‍👩‍👧 done", "日本語のテキストと中文字符，还有한국어。", "e\u0301 a\u0308 n\u0303 \u0301alone",
    "Ǆemal ǅ ǈ ʰʲ ΑΒΓαβγ ДЖЯджя İstanbul", "١٢٣ Ⅻ ½ ²³ ①", "nbsp\u00a0em\u2003ideographic\u3000ls\u2028ps\u2029",
    "<|endoftext|> is special; so is <|fim_prefix|> and <|endofprompt|>", "path/to/file.swift:12:3: error:\r\n",
    "MixedCASEWords likeThis AndTHIS iPhone McDonald's", "ÀÉÎÕÜ àéîõü ßẞ", "tab\tseparated\tvalues\n1\t2\t3\n",
    "!!!??? ... --- *** /// \\\\ ||| ~~~", "a\x1c\x1c b\x1f  c \u0085\u0085d", "Ω> (with-budget 10000 (lambda () (effect infer.op \"hi\")))",
]

POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", " ", "  \t", "\n", "\r\n", "'",
    "'s", "'LL", "'Re", ".,;:!?()[]{}<>/\\-_=+*&^%$#@~`|\"", "éàüßçñ", "e\u0301", "\u0301\u0308",
    "日本語中文字", "한국어", "🙂👍🏽🇫🇷", "ǅǈ", "ʰʲ", "ſ", "\u00a0\u2003\u3000", "١٢٣", "Ⅻ", "½", "\u200b",
    "\u2028", "/", "Ω", "ΑΒΓαβγ", "ДЖЯджя", "\x0b\x0c", "\u0085",
]

def letters(n):
    """A long word of varied letters, reproducible in Swift without a shared RNG."""
    return "".join(chr(97 + (i * i * 31 + i * 17) % 26) for i in range(n))

def fuzz(rng, n):
    return "".join(rng.choice(rng.choice(POOLS)) if rng.random() < 0.7 else rng.choice(POOLS) for _ in range(n))

def main():
    rng = random.Random(20261122)
    texts = CASES + [fuzz(rng, rng.randint(1, 60)) for _ in range(400)] + [fuzz(rng, 400) for _ in range(10)]
    long_texts = {
        "a x 100000": "a" * 100000, "digits x 100000": "7" * 100000, "spaces x 100000": " " * 100000 + "x",
        "newlines x 50000": "\n" * 50000, "letters x 50000": letters(50000),
        "ab x 50000": "ab" * 50000, "emoji x 20000": "🙂" * 20000, "punctuation x 100000": "!" * 100000,
    }
    encs = {name: tiktoken.get_encoding(name) for name in ["cl100k_base", "o200k_base"]}
    out = {"cases": [], "long": []}
    for t in texts:
        out["cases"].append({"text": t, **{n: e.encode_ordinary(t) for n, e in encs.items()}})
    for label, t in long_texts.items():
        entry = {"label": label}
        for n, e in encs.items():
            ids = e.encode_ordinary(t)
            entry[n] = {"count": len(ids), "ids_sha256": hashlib.sha256(" ".join(map(str, ids)).encode()).hexdigest()}
        out["long"].append(entry)
    # Special tokens allowed (tiktoken's allowed_special="all").
    special = "a<|endoftext|>b<|endofprompt|>"
    out["special"] = {"text": special, **{n: e.encode(special, allowed_special="all") for n, e in encs.items()}}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}: {len(out['cases'])} cases, {len(out['long'])} long inputs")

if __name__ == "__main__":
    main()
