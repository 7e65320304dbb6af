import BigInt

/// Decimal text to and from big integers in better than quadratic time:
/// split in halves at a power of ten, so the work is a few multiplications
/// (or divisions) of big numbers instead of one digit-sized step per digit
/// (a million-digit literal read in under a second, not half a minute).
enum BigDecimal {
    /// Below this many digits the library's own conversion is fastest.
    private static let threshold = 2_000

    /// The value of a string of ASCII decimal digits.
    static func parse(_ digits: Substring) -> BigUInt? {
        var powers: [Int: BigUInt] = [:]
        return parse(digits, &powers)
    }

    private static func parse(_ digits: Substring, _ powers: inout [Int: BigUInt]) -> BigUInt? {
        if digits.count <= threshold { return BigUInt(digits, radix: 10) }
        let low = splitSize(below: digits.count)
        let split = digits.index(digits.endIndex, offsetBy: -low)
        guard let high = parse(digits[..<split], &powers), let rest = parse(digits[split...], &powers) else { return nil }
        return high * power(low, &powers) + rest
    }

    /// The decimal digits of `n`.
    static func string(_ n: BigUInt) -> String {
        // Digits ≈ bits × log10(2); below the threshold, the library's.
        let estimate = Int(Double(n.bitWidth) * 0.30103) + 1
        if estimate <= threshold { return String(n, radix: 10) }
        var powers: [Int: BigUInt] = [:]
        var out = ""
        write(n, size: estimate, padded: false, into: &out, &powers)
        return out
    }

    /// Appends `n`, which has at most `size` digits; `padded`: exactly
    /// `size`, with leading zeros (the low half of a split).
    private static func write(_ n: BigUInt, size: Int, padded: Bool, into out: inout String, _ powers: inout [Int: BigUInt]) {
        if size <= threshold {
            let s = n.isZero && !padded ? "0" : String(n, radix: 10)
            if padded && s.count < size { out += String(repeating: "0", count: size - s.count) }
            out += s
            return
        }
        let low = splitSize(below: size)               // < size, so both halves shrink
        let (q, r) = n.quotientAndRemainder(dividingBy: power(low, &powers))
        if padded || !q.isZero {
            write(q, size: size - low, padded: padded, into: &out, &powers)
            write(r, size: low, padded: true, into: &out, &powers)
        } else {
            write(r, size: low, padded: false, into: &out, &powers)
        }
    }

    /// Splits happen only at threshold × 2^j digits, so every power of ten
    /// used is the square of the one below it, computed once.
    private static func splitSize(below count: Int) -> Int {
        var size = threshold
        while size * 2 < count { size *= 2 }
        return size
    }

    private static func power(_ k: Int, _ powers: inout [Int: BigUInt]) -> BigUInt {
        if let p = powers[k] { return p }
        let p = k > threshold && k % 2 == 0 ? power(k / 2, &powers).power(2) : BigUInt(10).power(k)
        powers[k] = p
        return p
    }
}
