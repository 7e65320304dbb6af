import BigInt

/// Big integers as decimal text, by divide and conquer: split at a power
/// of ten into halves, each converted the same way, instead of dividing
/// the whole number by a word-sized power of ten once per 19 digits
/// (10^1000000 in 13 s instead of 27 s; the division itself is still the
/// BigInt library's quadratic one). Reading stays with the library's own
/// conversion, which measured faster than splitting.
enum BigDecimal {
    /// Below this many digits the library's own conversion is fastest.
    private static let threshold = 2_000

    /// The decimal digits of `n`.
    static func string(_ n: BigUInt) -> String {
        if let s = LargeIntegers.decimal(n) { return s }
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
