import BigInt
import Foundation

/// Parsing and printing of numbers in R7RS syntax.
enum NumberSyntax {
    /// Parses a number, or returns nil when `text` is not one (then the reader
    /// treats it as a symbol).
    static func parse(_ text: String, radix defaultRadix: Int = 10) -> Num? {
        var s = Substring(text)
        var radix = defaultRadix
        var exactness: Character? = nil
        while s.hasPrefix("#") && s.count >= 2 {
            let c = s[s.index(after: s.startIndex)].lowercased().first ?? " "
            switch c {
            case "x": radix = 16
            case "b": radix = 2
            case "o": radix = 8
            case "d": radix = 10
            case "e", "i":
                if exactness != nil { return nil }
                exactness = c
            default: return nil
            }
            s = s.dropFirst(2)
        }
        if radix == 10 { s = exponentAsE(s) }
        guard var n = parseReal(s, radix: radix) else { return nil }
        if exactness == "e" {
            if case .flo = n {
                guard let exact = parseExactDecimal(s) ?? n.toExact else { return nil }
                n = exact
            }
        } else if exactness == "i" {
            n = n.toInexact
        }
        return n
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

    private static func parseInteger(_ s: Substring, radix: Int) -> BigInt? {
        var body = s
        if body.hasPrefix("+") || body.hasPrefix("-") { body = body.dropFirst() }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.isHexDigit && Int(String($0), radix: radix) != nil }) else {
            return nil
        }
        if let i = Int(s.hasPrefix("+") ? s.dropFirst() : s, radix: radix) { return BigInt(i) }
        return BigInt(s.hasPrefix("+") ? s.dropFirst() : s, radix: radix)
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

    /// The exact value of a decimal literal (for `#e1.25`).
    private static func parseExactDecimal(_ s: Substring) -> Num? {
        guard isDecimal(s) else { return nil }
        var mantissa = ""
        var fractionDigits = 0
        var exponent = 0
        var inFraction = false
        var rest = s[...]
        if let e = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(rest[rest.index(after: e)...]) ?? 0
            rest = rest[..<e]
        }
        for ch in rest {
            if ch == "." { inFraction = true; continue }
            mantissa.append(ch)
            if inFraction && ch.isNumber { fractionDigits += 1 }
        }
        guard let m = BigInt(mantissa) else { return nil }
        let scale = exponent - fractionDigits
        if scale >= 0 { return Num.integer(m * BigInt(10).power(scale)) }
        return Num.rational(m, BigInt(10).power(-scale))
    }

    // MARK: Printing

    static func format(_ n: Num, radix: Int = 10) -> String {
        switch n {
        case .fix(let i): return String(i, radix: radix)
        case .big(let b): return String(b, radix: radix)
        case .rat(let p, let q): return String(p, radix: radix) + "/" + String(q, radix: radix)
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
