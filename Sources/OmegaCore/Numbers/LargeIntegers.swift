import BigInt
import CGMP

/// Multiplication, division and decimal conversion of large integers by
/// GMP's natural-number layer (`mpn_*`, the routines Guile's bignums use):
/// subquadratic algorithms in assembly, where the BigInt library's are
/// schoolbook loops. Operands cross over as their 64-bit words, copied in
/// linear time — but through the library's unspecialised generic
/// collections, which cost more than GMP saves on operands of a few dozen
/// words (the `pi` benchmark, 26 words, ran 13 % slower with a threshold of
/// 6, and still 17 % slower with 8 once words were copied one by one): below
/// `threshold` words the library's own routines are kept, and nothing is
/// copied.
enum LargeIntegers {
    /// Words (of 64 bits) from which an operand goes to GMP.
    static let threshold = 64

    /// base^k by squaring, each product by `multiply` (the library's own
    /// `power` took 44 s for 7^3000000; GMP's products make it well under a second).
    static func power(_ base: BigInt, _ k: Int) -> BigInt {
        var result = BigInt(1), square = base, k = k
        while k > 0 {
            if k & 1 == 1 { result = multiply(result, square) }
            k >>= 1
            if k > 0 { square = multiply(square, square) }
        }
        return result
    }

    /// The magnitude's words, least significant first, without high zeros:
    /// copied one by one (`Array(n.words)` goes through the generic
    /// collection machinery, several times slower).
    private static func words(_ n: BigUInt) -> [UInt] {
        let source = n.words
        var count = source.count
        while count > 0 && source[count - 1] == 0 { count -= 1 }
        return [UInt](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = source[i] }
            initialized = count
        }
    }

    /// a × b.
    static func multiply(_ a: BigInt, _ b: BigInt) -> BigInt {
        // Decided on the sizes before anything is copied.
        guard a.magnitude.words.count >= threshold || b.magnitude.words.count >= threshold else { return a * b }
        let x = words(a.magnitude), y = words(b.magnitude)
        guard !x.isEmpty, !y.isEmpty else { return a * b }
        let (long, short) = x.count >= y.count ? (x, y) : (y, x)
        var product = [UInt](repeating: 0, count: long.count + short.count)
        product.withUnsafeMutableBufferPointer { p in
            long.withUnsafeBufferPointer { l in
                short.withUnsafeBufferPointer { s in
                    _ = __gmpn_mul(p.baseAddress, l.baseAddress, long.count, s.baseAddress, short.count)
                }
            }
        }
        let magnitude = BigInt(BigUInt(words: product))
        return a.sign == b.sign ? magnitude : -magnitude
    }

    /// Quotient and remainder truncated toward zero, as
    /// `BigInt.quotientAndRemainder(dividingBy:)` (the remainder has the
    /// dividend's sign). `b` is not zero.
    static func quotientAndRemainder(_ a: BigInt, _ b: BigInt) -> (BigInt, BigInt) {
        guard a.magnitude.words.count >= threshold else { return a.quotientAndRemainder(dividingBy: b) }
        let n = words(a.magnitude), d = words(b.magnitude)
        guard n.count >= threshold, d.count >= 2, n.count >= d.count else { return a.quotientAndRemainder(dividingBy: b) }
        var q = [UInt](repeating: 0, count: n.count - d.count + 1)
        var r = [UInt](repeating: 0, count: d.count)
        q.withUnsafeMutableBufferPointer { qp in
            r.withUnsafeMutableBufferPointer { rp in
                n.withUnsafeBufferPointer { np in
                    d.withUnsafeBufferPointer { dp in
                        __gmpn_tdiv_qr(qp.baseAddress, rp.baseAddress, 0, np.baseAddress, n.count, dp.baseAddress, d.count)
                    }
                }
            }
        }
        let quotient = BigInt(BigUInt(words: q)), remainder = BigInt(BigUInt(words: r))
        return (a.sign == b.sign ? quotient : -quotient, a.sign == .minus ? -remainder : remainder)
    }

    /// The decimal digits of `n` (GMP's subquadratic conversion from
    /// `threshold` words; the library's own below, where it is as fast).
    static func decimal(_ n: BigUInt) -> String {
        guard n.words.count >= threshold else { return String(n, radix: 10) }
        var w = words(n)
        // mpn_get_str: at most ⌈bits × log10(2)⌉ + 1 digits, as values 0–9; it overwrites its input.
        let capacity = Int(Double(w.count * 64) * 0.30103) + 2
        var digits = [UInt8](repeating: 0, count: capacity)
        let count = digits.withUnsafeMutableBufferPointer { dp in
            w.withUnsafeMutableBufferPointer { wp in
                __gmpn_get_str(dp.baseAddress, 10, wp.baseAddress, wp.count)
            }
        }
        var bytes = digits[..<count].drop(while: { $0 == 0 }).map { $0 + 48 }
        if bytes.isEmpty { bytes = [48] }
        return String(decoding: bytes, as: UTF8.self)
    }
}

// Conversions between Int and BigInt without the library's generic ones,
// which walk `words` through witness tables (the BigInt module is not
// specialised in ours): a third of `pi`'s time went to them.
extension BigInt {
    /// `BigInt(i)`, directly.
    init(small i: Int) {
        self.init(sign: i < 0 ? .minus : .plus, magnitude: i == 0 ? BigUInt() : BigUInt(words: [i.magnitude]))
    }

    /// The value as an Int, when it fits (`Int(exactly:)`, directly).
    var smallValue: Int? {
        let words = magnitude.words
        if words.isEmpty { return 0 }
        guard words.count == 1 else { return nil }
        let m = words[0]
        if sign == .plus { return m <= UInt(Int.max) ? Int(m) : nil }
        return m <= UInt(Int.max) + 1 ? Int(truncatingIfNeeded: 0 &- m) : nil
    }
}

