import OmegaCore
/// Splits text into the pieces BPE works on, exactly as tiktoken's regular
/// expressions do, but by hand: one forward scan per piece, no regex engine.
///
/// Each `case` below follows one alternative of the pattern, in the pattern's
/// order (the first alternative that matches wins, as in a backtracking
/// engine). Where an alternative would backtrack, the comment says what the
/// backtracking settles on.
///
/// cl100k_base:
///
///     '(?i:[sdmt]|ll|ve|re) | [^\r\n\p{L}\p{N}]?+\p{L}++ | \p{N}{1,3}+
///     | ' '?[^\s\p{L}\p{N}]++[\r\n]*+ | \s++$ | \s*[\r\n] | \s+(?!\S) | \s
///
/// o200k_base (U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], W = [\p{Ll}\p{Lm}\p{Lo}\p{M}],
/// C = (?i:'s|'t|'re|'ve|'m|'ll|'d)):
///
///     [^\r\n\p{L}\p{N}]?U*W+C? | [^\r\n\p{L}\p{N}]?U+W*C? | \p{N}{1,3}
///     | ' '?[^\s\p{L}\p{N}]+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+
struct PreTokenizer {
    enum Pattern: Sendable { case cl100k, o200k }

    let pattern: Pattern
    let text: UnsafeBufferPointer<UInt8>
    private let classes = CharacterClasses.shared

    init(pattern: Pattern, text: UnsafeBufferPointer<UInt8>) {
        self.pattern = pattern
        self.text = text
    }

    typealias C = CharacterClasses

    /// The scalar starting at byte `i` (valid UTF-8) and its length in bytes.
    @inline(__always) private func scalar(_ i: Int) -> (value: UInt32, length: Int) {
        let b0 = UInt32(text[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(text[i + 1]) & 0x3F, 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | (UInt32(text[i + 1]) & 0x3F) << 6 | UInt32(text[i + 2]) & 0x3F, 3)
        }
        return ((b0 & 0x07) << 18 | (UInt32(text[i + 1]) & 0x3F) << 12
                | (UInt32(text[i + 2]) & 0x3F) << 6 | UInt32(text[i + 3]) & 0x3F, 4)
    }

    /// The class flags of the scalar at `i` and its length; (0, 0) at the end.
    @inline(__always) private func classAt(_ i: Int) -> (flags: UInt8, length: Int) {
        guard i < text.count else { return (0, 0) }
        let (v, n) = scalar(i)
        return (classes.flags(v), n)
    }

    /// The end of the run of scalars whose flags meet `mask`, from `i`.
    @inline(__always) private func run(from i: Int, _ mask: UInt8) -> Int {
        var j = i
        while j < text.count {
            let (f, n) = classAt(j)
            if f & mask == 0 { break }
            j += n
        }
        return j
    }

    /// The end of the run of scalars whose flags avoid `mask`, from `i`.
    @inline(__always) private func runAvoiding(from i: Int, _ mask: UInt8) -> Int {
        var j = i
        while j < text.count {
            let (f, n) = classAt(j)
            if f & mask != 0 { break }
            j += n
        }
        return j
    }

    /// ASCII lowercase of the byte at `i`, or 0 past the end.
    @inline(__always) private func lower(_ i: Int) -> UInt8 {
        guard i < text.count else { return 0 }
        let b = text[i]
        return b >= 65 && b <= 90 ? b | 0x20 : b
    }

    /// `(?i:s)` also matches U+017F LATIN SMALL LETTER LONG S (bytes C5 BF).
    @inline(__always) private func isLongS(_ i: Int) -> Bool {
        i + 1 < text.count && text[i] == 0xC5 && text[i + 1] == 0xBF
    }

    /// The end of the piece that starts at byte `i` (< text.count).
    func pieceEnd(from i: Int) -> Int {
        pattern == .cl100k ? cl100kEnd(i) : o200kEnd(i)
    }

    private func cl100kEnd(_ i: Int) -> Int {
        let (f, n) = classAt(i)
        // '(?i:[sdmt]|ll|ve|re)
        if text[i] == 0x27 {
            let a = lower(i + 1)
            if a == 0x73 || a == 0x64 || a == 0x6D || a == 0x74 { return i + 2 }
            if isLongS(i + 1) { return i + 3 }
            let b = lower(i + 2)
            if (a == 0x6C && b == 0x6C) || (a == 0x76 && b == 0x65) || (a == 0x72 && b == 0x65) { return i + 3 }
        }
        // [^\r\n\p{L}\p{N}]?+\p{L}++ (possessive: a taken prefix is never given back)
        if f & C.letter != 0 { return run(from: i, C.letter) }
        if f & (C.letter | C.number | C.newline) == 0 && classAt(i + n).flags & C.letter != 0 {
            return run(from: i + n, C.letter)
        }
        // \p{N}{1,3}+
        if f & C.number != 0 { return numbers(from: i) }
        // ' '?[^\s\p{L}\p{N}]++[\r\n]*+
        if let end = punctuation(from: i, trailing: [0x0D, 0x0A]) { return end }
        // What is left starts with white space.
        let ws = whitespaceRun(from: i)
        if ws.end == text.count { return ws.end }          // \s++$
        if let nl = ws.afterLastNewline { return nl }      // \s*[\r\n] backtracks to the last newline
        if ws.count >= 2 { return ws.lastStart }           // \s+(?!\S) gives back the last space
        return i + n                                       // \s
    }

    private func o200kEnd(_ i: Int) -> Int {
        let (f, n) = classAt(i)
        let prefixAllowed = f & (C.letter | C.number | C.newline) == 0
        // [^\r\n\p{L}\p{N}]?U*W+C?  (the optional prefix is tried first)
        if prefixAllowed, let end = lowerCore(i + n) { return end }
        if let end = lowerCore(i) { return end }
        // [^\r\n\p{L}\p{N}]?U+W*C?
        if prefixAllowed, let end = upperCore(i + n) { return end }
        if let end = upperCore(i) { return end }
        // \p{N}{1,3}
        if f & C.number != 0 { return numbers(from: i) }
        // ' '?[^\s\p{L}\p{N}]+[\r\n/]*
        if let end = punctuation(from: i, trailing: [0x0D, 0x0A, 0x2F]) { return end }
        let ws = whitespaceRun(from: i)
        if let nl = ws.afterLastNewline { return nl }      // \s*[\r\n]+
        if ws.end == text.count || ws.count >= 2 {         // \s+(?!\S)
            return ws.end == text.count ? ws.end : ws.lastStart
        }
        return ws.end                                      // \s+
    }

    /// U*W+C? from `s`. Greedy U* backtracks until W+ can match: either the
    /// scalar after the U run is in W, or the last scalar of the U run that is
    /// also in W (Lm, Lo, M are in both) becomes a one-scalar W+.
    private func lowerCore(_ s: Int) -> Int? {
        var j = s
        var lastLowerEnd: Int? = nil
        while j < text.count {
            let (f, n) = classAt(j)
            if f & C.upperGroup == 0 { break }
            if f & C.lowerGroup != 0 { lastLowerEnd = j + n }
            j += n
        }
        if classAt(j).flags & C.lowerGroup != 0 {
            return contraction(run(from: j, C.lowerGroup))
        }
        return lastLowerEnd.map(contraction)
    }

    /// U+W*C? from `s`.
    private func upperCore(_ s: Int) -> Int? {
        guard classAt(s).flags & C.upperGroup != 0 else { return nil }
        return contraction(run(from: run(from: s, C.upperGroup), C.lowerGroup))
    }

    /// (?i:'s|'t|'re|'ve|'m|'ll|'d)? at `i`.
    private func contraction(_ i: Int) -> Int {
        guard i < text.count, text[i] == 0x27 else { return i }
        let a = lower(i + 1)
        if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { return i + 2 }
        if isLongS(i + 1) { return i + 3 }
        let b = lower(i + 2)
        if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) { return i + 3 }
        return i
    }

    /// \p{N}{1,3}
    private func numbers(from i: Int) -> Int {
        var j = i
        for _ in 0..<3 {
            let (f, n) = classAt(j)
            if f & C.number == 0 { break }
            j += n
        }
        return j
    }

    /// ' '?[^\s\p{L}\p{N}]+ followed by any of `trailing` bytes; nil when the
    /// piece does not start (after an optional space) with such a scalar.
    private func punctuation(from i: Int, trailing: [UInt8]) -> Int? {
        var j = i
        if text[i] == 0x20, i + 1 < text.count, classAt(i + 1).flags & C.wordOrSpace == 0 { j = i + 1 }
        guard classAt(j).flags & C.wordOrSpace == 0, j < text.count else { return nil }
        j = runAvoiding(from: j, C.wordOrSpace)
        while j < text.count, trailing.contains(text[j]) { j += 1 }
        return j
    }

    /// A maximal run of white space from `i`: where it ends, where its last
    /// scalar starts, how many scalars it has, and the end of its last \r or \n.
    private func whitespaceRun(from i: Int) -> (end: Int, lastStart: Int, count: Int, afterLastNewline: Int?) {
        var j = i, last = i, count = 0
        var newline: Int? = nil
        while j < text.count {
            let (f, n) = classAt(j)
            if f & C.space == 0 { break }
            if f & C.newline != 0 { newline = j + n }
            last = j
            count += 1
            j += n
        }
        return (j, last, count, newline)
    }
}
