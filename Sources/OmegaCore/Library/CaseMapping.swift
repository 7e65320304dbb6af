/// Unicode case mapping and folding for strings and characters (R7RS 6.6,
/// 6.7): full mappings for strings (`"Straße"` folds to `"strasse"`, a
/// final capital sigma lowercases to `ς`), simple one-character mappings
/// for characters.
enum CaseMapping {
    /// Full case folding of one scalar (CaseFolding.txt statuses C and F):
    /// the lowercase of its uppercase, except where that differs from
    /// folding — scalars folding does not change (Turkish `ı`) and Cherokee,
    /// whose lowercase letters fold to the uppercase ones.
    static func fold(_ c: Unicode.Scalar, into out: inout [Unicode.Scalar]) {
        let v = c.value
        if v < 0x80 {
            out.append(v >= 0x41 && v <= 0x5A ? Unicode.Scalar(v + 0x20)! : c)
            return
        }
        guard c.properties.changesWhenCaseFolded else { out.append(c); return }
        if (0x13F8...0x13FD).contains(v) { out.append(Unicode.Scalar(v - 8)!); return }
        if (0xAB70...0xABBF).contains(v) { out.append(Unicode.Scalar(v - 0xAB70 + 0x13A0)!); return }
        out.append(contentsOf: String(c).uppercased().lowercased().unicodeScalars)
    }

    static func fold(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        for c in s { fold(c, into: &out) }
        return out
    }

    /// Simple folding of one character: its full folding when that is one
    /// character, else its lowercase (`ß` stays `ß`).
    static func foldChar(_ c: Unicode.Scalar) -> Unicode.Scalar {
        var out: [Unicode.Scalar] = []
        fold(c, into: &out)
        return out.count == 1 ? out[0] : downcaseChar(c)
    }

    static func upcaseChar(_ c: Unicode.Scalar) -> Unicode.Scalar {
        let m = c.properties.uppercaseMapping.unicodeScalars
        return m.count == 1 ? m.first ?? c : c
    }

    static func downcaseChar(_ c: Unicode.Scalar) -> Unicode.Scalar {
        let m = c.properties.lowercaseMapping.unicodeScalars
        return m.count == 1 ? m.first ?? c : c
    }

    static func upcase(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        for c in s { out.append(contentsOf: c.properties.uppercaseMapping.unicodeScalars) }
        return out
    }

    /// Full lowercase mapping with the one context Unicode makes
    /// unconditional: a capital sigma that ends a word becomes `ς`.
    static func downcase(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        for (k, c) in s.enumerated() {
            if c == "\u{3A3}" && endsWord(s, at: k) {
                out.append("\u{3C2}")
            } else {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    /// Final_Sigma: a cased letter before position k and none after it
    /// (case-ignorable characters skipped on both sides).
    private static func endsWord(_ s: [Unicode.Scalar], at k: Int) -> Bool {
        var before = k - 1
        while before >= 0 && s[before].properties.isCaseIgnorable { before -= 1 }
        guard before >= 0 && s[before].properties.isCased else { return false }
        var after = k + 1
        while after < s.count && s[after].properties.isCaseIgnorable { after += 1 }
        return !(after < s.count && s[after].properties.isCased)
    }
}
