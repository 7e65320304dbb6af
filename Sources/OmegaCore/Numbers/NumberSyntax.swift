import Foundation

/// Parsing and printing of numbers in R7RS syntax.
enum NumberSyntax {
    /// Parses a real number, or returns nil when `text` is not one.
    static func parse(_ text: String, radix defaultRadix: Int = 10) -> Num? {
        guard let z = parseComplex(text, radix: defaultRadix), z.isReal else { return nil }
        return z.re
    }

    /// Parses any number — real, rectangular (`1+2i`, `-i`, `+inf.0i`) or
    /// polar (`1@2`) — after its prefixes (`#x`, `#e`, in either order), or
    /// returns nil when `text` is not one (then the reader treats it as a
    /// symbol).
    /// The decimal forms data is made of — `[+-]digits` that fit an Int, and
    /// `[+-]digits[.digits][e[+-]digits]` — read from ASCII bytes without the
    /// general syntax's walk over Characters (which made `read` of a file of
    /// numbers spend most of its time in String indexing). nil: not one of
    /// these forms; the caller goes on to `parseComplex`.
    static func parseSimpleDecimal(_ b: [UInt8]) -> Num? {
        let n = b.count
        var i = 0
        guard n > 0 else { return nil }
        @inline(__always) func digit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        var negative = false
        if b[0] == UInt8(ascii: "+") || b[0] == UInt8(ascii: "-") { negative = b[0] == UInt8(ascii: "-"); i = 1 }
        var value = 0, overflow = false, intDigits = 0
        while i < n, digit(b[i]) {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(b[i] - 0x30))
            overflow = overflow || o1 || o2
            value = s
            intDigits += 1
            i += 1
        }
        if i == n {
            guard intDigits > 0, !overflow else { return nil }
            return .fix(negative ? -value : value)
        }
        var fractionDigits = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            while i < n, digit(b[i]) { fractionDigits += 1; i += 1 }
        }
        guard intDigits + fractionDigits > 0 else { return nil }
        if i < n, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < n, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            var exponentDigits = 0
            while i < n, digit(b[i]) { exponentDigits += 1; i += 1 }
            guard exponentDigits > 0 else { return nil }
        }
        guard i == n else { return nil }
        return Double(String(decoding: b, as: UTF8.self)).map { .flo($0) }
    }

    static func parseComplex(_ text: String, radix defaultRadix: Int = 10) -> Complex? {
        var s = Substring(text)
        var radix = defaultRadix
        var exactness: Character? = nil
        var radixGiven = false
        while s.hasPrefix("#") && s.count >= 2 {
            let c = s[s.index(after: s.startIndex)].lowercased().first ?? " "
            switch c {
            case "x", "b", "o", "d":
                if radixGiven { return nil }
                radixGiven = true
                radix = ["x": 16, "b": 2, "o": 8, "d": 10][c] ?? 10
            case "e", "i":
                if exactness != nil { return nil }
                exactness = c
            default: return nil
            }
            s = s.dropFirst(2)
        }
        func real(_ part: Substring) -> Num? {
            let p = radix == 10 ? exponentAsE(part) : part
            guard var n = parseReal(p, radix: radix) else { return nil }
            if exactness == "e" {
                if case .flo = n {
                    guard let exact = parseExactDecimal(p) ?? n.toExact else { return nil }
                    n = exact
                }
            } else if exactness == "i" {
                n = n.toInexact
            }
            return n
        }
        if let at = s.firstIndex(of: "@") {
            guard let m = real(s[..<at]), let a = real(s[s.index(after: at)...]) else { return nil }
            return Complex.polar(m, a)
        }
        if let last = s.last, last == "i" || last == "I" {
            let t = s.dropLast()
            guard let k = imaginarySign(t, radix: radix) else { return nil }
            let rePart = t[..<k], imPart = t[k...]
            let im: Num
            if imPart == "+" || imPart == "-" {
                im = exactness == "i" ? .flo(imPart == "+" ? 1 : -1) : .fix(imPart == "+" ? 1 : -1)
            } else {
                guard let n = real(imPart) else { return nil }
                im = n
            }
            if rePart.isEmpty { return Complex(exactness == "i" ? .flo(0) : .fix(0), im) }
            guard let re = real(rePart) else { return nil }
            return Complex(re, im)
        }
        return real(s).map { Complex($0, .fix(0)) }
    }

    /// Where the imaginary part of `t` (a number without its final `i`)
    /// starts: its last sign that is not an exponent's.
    private static func imaginarySign(_ t: Substring, radix: Int) -> Substring.Index? {
        var idx = t.endIndex
        while idx > t.startIndex {
            idx = t.index(before: idx)
            guard t[idx] == "+" || t[idx] == "-" else { continue }
            if idx == t.startIndex { return idx }
            let prev = t[t.index(before: idx)]
            if radix == 10 && "eEsSfFdDlL".contains(prev) && t.index(before: idx) > t.startIndex {
                let beforeMarker = t[t.index(before: t.index(before: idx))]
                if beforeMarker.isASCII && (beforeMarker.isNumber || beforeMarker == ".") { continue }
            }
            return idx
        }
        return nil
    }

    private static func parseReal(_ s: Substring, radix: Int) -> Num? {
        if s.isEmpty { return nil }
        switch s.lowercased() {
        case "+inf.0": return .flo(.infinity)
        case "-inf.0": return .flo(-.infinity)
        case "+nan.0", "-nan.0": return .flo(.nan)
        default: break
        }
        if let slash = s.firstIndex(of: "/") {
            guard let n = parseInteger(s[..<slash], radix: radix),
                  let d = parseInteger(s[s.index(after: slash)...], radix: radix),
                  !s[s.index(after: slash)...].hasPrefix("+"), !s[s.index(after: slash)...].hasPrefix("-") else { return nil }
            if d.isZero { return nil }
            return Num.rational(n, d)
        }
        if let i = parseInteger(s, radix: radix) { return Num.integer(i) }
        guard radix == 10, isDecimal(s) else { return nil }
        return Double(String(s)).map { .flo($0) }
    }

    private static func parseInteger(_ s: Substring, radix: Int) -> LargeInt? {
        var body = s
        if body.hasPrefix("+") || body.hasPrefix("-") { body = body.dropFirst() }
        guard let first = body.first, first != "+", first != "-" else { return nil }
        if let i = Int(body, radix: radix) { return LargeInt(s.hasPrefix("-") ? -i : i) }
        return LargeInt(s, radix: radix)
    }

    /// digits [. digits] [e [sign] digits], with at least one digit.
    /// R7RS's other exponent markers (`1s2`, `1.5f0`, `2d3`, `1l-2`) read as
    /// `e`; text that is not then a decimal is left as it was (a symbol).
    private static func exponentAsE(_ s: Substring) -> Substring {
        guard let i = s.firstIndex(where: { "sSfFdDlL".contains($0) }), i != s.startIndex else { return s }
        var t = s
        t.replaceSubrange(i...i, with: "e")
        return isDecimal(t) ? t : s
    }

    private static func isDecimal(_ s: Substring) -> Bool {
        var it = s.makeIterator()
        var c = it.next()
        if c == "+" || c == "-" { c = it.next() }
        var digits = 0
        while let ch = c, ch.isASCII, ch.isNumber { digits += 1; c = it.next() }
        if c == "." {
            c = it.next()
            while let ch = c, ch.isASCII, ch.isNumber { digits += 1; c = it.next() }
        }
        if digits == 0 { return false }
        if c == "e" || c == "E" {
            c = it.next()
            if c == "+" || c == "-" { c = it.next() }
            var expDigits = 0
            while let ch = c, ch.isASCII, ch.isNumber { expDigits += 1; c = it.next() }
            if expDigits == 0 { return false }
        }
        return c == nil
    }

    /// The largest power of ten an exact decimal literal (`#e1e400`) may
    /// scale by; beyond it the text is not read as a number.
    static let maxExactExponent = 100_000

    /// Whether `text` is an exact decimal refused only for its size
    /// (`#e1e999999`), so the reader can say so.
    static func isOversizedExact(_ text: String) -> Bool {
        let lower = text.lowercased()
        guard lower.hasPrefix("#e") || lower.hasPrefix("#d#e") || lower.hasPrefix("#e#d") else { return false }
        let body = lower.replacingOccurrences(of: "#e", with: "").replacingOccurrences(of: "#d", with: "")
        return isDecimal(exponentAsE(Substring(body))) && parse(text) == nil
    }

    /// The exact value of a decimal literal (for `#e1.25`).
    private static func parseExactDecimal(_ s: Substring) -> Num? {
        guard isDecimal(s) else { return nil }
        var mantissa = ""
        var fractionDigits = 0
        var exponent = 0
        var inFraction = false
        var rest = s[...]
        if let e = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let x = Int(rest[rest.index(after: e)...]) else { return nil }
            exponent = x
            rest = rest[..<e]
        }
        for ch in rest {
            if ch == "." { inFraction = true; continue }
            mantissa.append(ch)
            if inFraction && ch.isNumber { fractionDigits += 1 }
        }
        guard let m = LargeInt(mantissa) else { return nil }
        let scale = exponent - fractionDigits
        // A ten-character literal must not build a million-digit number:
        // an exact decimal is refused past 10^±maxExactExponent.
        guard abs(scale) <= maxExactExponent else { return nil }
        if scale >= 0 { return Num.integer(m * LargeInt(10).power(scale)) }
        return Num.rational(m, LargeInt(10).power(-scale))
    }

    // MARK: Printing

    /// A complex number as `re+imi` (`+2i` and `+i` when the real part is an
    /// exact zero, `1.0+2.0i` otherwise); a real one as itself.
    static func format(_ z: Complex, radix: Int = 10) -> String {
        if z.isReal { return format(z.re, radix: radix) }
        let re = z.re.isExact && z.re.isZero ? "" : format(z.re, radix: radix)
        var im = format(z.im, radix: radix)
        if im == "1" && z.im.isExact { im = "" } else if im == "-1" && z.im.isExact { im = "-" }
        if !im.hasPrefix("-") && !im.hasPrefix("+") { im = "+" + im }
        return re + im + "i"
    }

    static func format(_ n: Num, radix: Int = 10) -> String {
        switch n {
        case .fix(let i): return String(i, radix: radix)
        case .big(let b): return b.toString(radix: radix)
        case .rat(let p, let q): return format(.big(p), radix: radix) + "/" + format(.big(q), radix: radix)
        case .flo(let d): return formatDouble(d)
        }
    }

    /// Shortest text that reads back as the same double, in Scheme syntax.
    static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "+nan.0" }
        if d.isInfinite { return d < 0 ? "-inf.0" : "+inf.0" }
        var s = "\(d)"  // Swift prints the shortest round-trip form
        if s.contains("e") {
            // 1e-07 → 1e-7; keep a mantissa point-free form, which Scheme reads.
            s = s.replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+", with: "e")
        }
        return s
    }
}
