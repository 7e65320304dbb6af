import CGMP

/// An exact integer of any size: a sign and a magnitude of 64-bit limbs,
/// least significant first, without high zero limbs (zero has none), in one
/// buffer that is never changed once made.
///
/// The arithmetic is GMP's natural-number layer (`mpn_*`, what Guile's
/// bignums use: assembly loops, subquadratic multiplication, division and
/// radix conversion), called on the buffer in place. One allocation per
/// value and no generic code between the interpreter and GMP: the BigInt
/// library this replaces spent more on reference counting and unspecialised
/// collection code than on arithmetic (`pi`: 31 % of its time in
/// `swift_retain`/`swift_release`).
package struct LargeInt {
    struct Header {
        var count: Int
        var negative: Bool
    }
    private let storage: ManagedBuffer<Header, UInt>

    private init(storage: ManagedBuffer<Header, UInt>) { self.storage = storage }

    /// A value whose magnitude `fill` writes, returning how many limbs it
    /// wrote (at most `capacity`); high zero limbs are dropped.
    @inline(__always)
    private static func make(capacity: Int, negative: Bool, _ fill: (UnsafeMutablePointer<UInt>) -> Int) -> LargeInt {
        let buffer = ManagedBuffer<Header, UInt>.create(minimumCapacity: Swift.max(capacity, 1)) { _ in
            Header(count: 0, negative: false)
        }
        buffer.withUnsafeMutablePointers { header, limbs in
            var n = fill(limbs)
            while n > 0 && limbs[n - 1] == 0 { n -= 1 }
            header.pointee = Header(count: n, negative: negative && n > 0)
        }
        return LargeInt(storage: buffer)
    }

    /// The magnitude's limbs and their count, for the duration of `body`.
    @inline(__always)
    private func withMagnitude<R>(_ body: (UnsafePointer<UInt>, Int) -> R) -> R {
        storage.withUnsafeMutablePointers { header, limbs in body(UnsafePointer(limbs), header.pointee.count) }
    }

    package static let zero = LargeInt(0)
    package static let one = LargeInt(1)

    package init(_ i: Int) {
        self = LargeInt(magnitude: i.magnitude, negative: i < 0)
    }

    private init(magnitude m: UInt, negative: Bool) {
        self = LargeInt.make(capacity: 1, negative: negative) { limbs in limbs[0] = m; return 1 }
    }

    /// The integer part of a finite double (truncated toward zero).
    package init(truncating d: Double) {
        let t = d.rounded(.towardZero)
        if Swift.abs(t) < 9.0e18 || !t.isFinite { self.init(t.isFinite ? Int(t) : 0); return }
        // t = significand × 2^(exponent − 52), the significand a 53-bit integer.
        let significand = Int(t.significandBitPattern | (1 << 52))
        let shifted = LargeInt(significand).shiftedLeft(Int(t.exponent) - 52)
        self = t < 0 ? -shifted : shifted
    }

    /// Digits in `radix` (2–36) with an optional leading sign; nil when any
    /// character is not such a digit, or there are none.
    package init?<S: StringProtocol>(_ text: S, radix: Int = 10) {
        var digits: [UInt8] = []
        digits.reserveCapacity(text.utf8.count)
        var negative = false
        for (k, byte) in text.utf8.enumerated() {
            if k == 0 && (byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")) {
                negative = byte == UInt8(ascii: "-")
                continue
            }
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            guard Int(value) < radix else { return nil }
            digits.append(value)
        }
        guard !digits.isEmpty, (2...36).contains(radix) else { return nil }
        // Room for the largest number of that many digits, plus one limb.
        let bitsPerDigit = Int.bitWidth - (radix - 1).leadingZeroBitCount
        let capacity = digits.count * bitsPerDigit / 64 + 2
        self = digits.withUnsafeBufferPointer { d in
            LargeInt.make(capacity: capacity, negative: negative) { limbs in
                __gmpn_set_str(limbs, d.baseAddress, d.count, Int32(radix))
            }
        }
    }

    // MARK: Properties

    package var isZero: Bool { storage.header.count == 0 }
    package var isNegative: Bool { storage.header.negative }
    /// -1, 0 or 1.
    package var signum: Int { isNegative ? -1 : (isZero ? 0 : 1) }
    /// Limbs of the magnitude (64 bits each).
    package var limbCount: Int { storage.header.count }

    package var isOdd: Bool { withMagnitude { a, n in n > 0 && a[0] & 1 == 1 } }

    /// Bits of the magnitude (0 for zero).
    package var bitWidth: Int {
        withMagnitude { a, n in n == 0 ? 0 : n * 64 - a[n - 1].leadingZeroBitCount }
    }

    /// The value as an Int, when it fits.
    package var smallValue: Int? {
        withMagnitude { a, n in
            if n == 0 { return 0 }
            guard n == 1 else { return nil }
            let m = a[0]
            if !isNegative { return m <= UInt(Int.max) ? Int(m) : nil }
            return m <= UInt(Int.max) + 1 ? Int(truncatingIfNeeded: 0 &- m) : nil
        }
    }

    package var magnitude: LargeInt { isNegative ? -self : self }

    // MARK: Arithmetic

    package static prefix func - (x: LargeInt) -> LargeInt {
        x.withMagnitude { a, n in
            n == 0 ? x : make(capacity: n, negative: !x.isNegative) { r in r.update(from: a, count: n); return n }
        }
    }

    /// Signed sum of two magnitudes with signs.
    private static func sum(_ a: UnsafePointer<UInt>, _ an: Int, _ aNegative: Bool,
                            _ b: UnsafePointer<UInt>, _ bn: Int, _ bNegative: Bool) -> LargeInt {
        if aNegative == bNegative {
            let (l, ln, s, sn) = an >= bn ? (a, an, b, bn) : (b, bn, a, an)
            return make(capacity: ln + 1, negative: aNegative) { r in
                if sn == 0 { r.update(from: l, count: ln); return ln }
                r[ln] = __gmpn_add(r, l, ln, s, sn)
                return ln + 1
            }
        }
        let c = compareMagnitudes(a, an, b, bn)
        if c == 0 { return zero }
        let (l, ln, ls, s, sn) = c > 0 ? (a, an, aNegative, b, bn) : (b, bn, bNegative, a, an)
        return make(capacity: ln, negative: ls) { r in
            if sn == 0 { r.update(from: l, count: ln) } else { _ = __gmpn_sub(r, l, ln, s, sn) }
            return ln
        }
    }

    package static func + (x: LargeInt, y: LargeInt) -> LargeInt {
        x.withMagnitude { a, an in y.withMagnitude { b, bn in sum(a, an, x.isNegative, b, bn, y.isNegative) } }
    }

    package static func - (x: LargeInt, y: LargeInt) -> LargeInt {
        x.withMagnitude { a, an in y.withMagnitude { b, bn in sum(a, an, x.isNegative, b, bn, !y.isNegative) } }
    }

    /// x + i without making a large integer of i.
    package func adding(_ i: Int) -> LargeInt {
        var m = i.magnitude
        return withMagnitude { a, an in
            withUnsafePointer(to: &m) { b in LargeInt.sum(a, an, isNegative, b, i == 0 ? 0 : 1, i < 0) }
        }
    }

    private static func product(_ a: UnsafePointer<UInt>, _ an: Int, _ b: UnsafePointer<UInt>, _ bn: Int,
                                negative: Bool) -> LargeInt {
        if an == 0 || bn == 0 { return zero }
        let (l, ln, s, sn) = an >= bn ? (a, an, b, bn) : (b, bn, a, an)
        return make(capacity: ln + sn, negative: negative) { r in
            if l == s && ln == sn { __gmpn_sqr(r, l, ln) } else { _ = __gmpn_mul(r, l, ln, s, sn) }
            return ln + sn
        }
    }

    package static func * (x: LargeInt, y: LargeInt) -> LargeInt {
        x.withMagnitude { a, an in
            y.withMagnitude { b, bn in product(a, an, b, bn, negative: x.isNegative != y.isNegative) }
        }
    }

    /// x × i without making a large integer of i.
    package func multiplied(by i: Int) -> LargeInt {
        var m = i.magnitude
        return withMagnitude { a, an in
            withUnsafePointer(to: &m) { b in LargeInt.product(a, an, b, i == 0 ? 0 : 1, negative: isNegative != (i < 0)) }
        }
    }

    /// Quotient and remainder truncated toward zero (the remainder has the
    /// dividend's sign). A zero divisor gives quotient 0 and the dividend:
    /// callers check for it first.
    package func quotientAndRemainder(dividingBy y: LargeInt) -> (quotient: LargeInt, remainder: LargeInt) {
        withMagnitude { a, an in
            y.withMagnitude { b, bn in
                if bn == 0 || LargeInt.compareMagnitudes(a, an, b, bn) < 0 { return (LargeInt.zero, self) }
                let quotientNegative = isNegative != y.isNegative
                if bn == 1 {
                    var rest: UInt = 0
                    let q = LargeInt.make(capacity: an, negative: quotientNegative) { qp in
                        rest = __gmpn_divrem_1(qp, 0, a, an, b[0])
                        return an
                    }
                    return (q, LargeInt(magnitude: rest, negative: isNegative))
                }
                var q = LargeInt.zero
                let r = LargeInt.make(capacity: bn, negative: isNegative) { rp in
                    q = LargeInt.make(capacity: an - bn + 1, negative: quotientNegative) { qp in
                        __gmpn_tdiv_qr(qp, rp, 0, a, an, b, bn)
                        return an - bn + 1
                    }
                    return bn
                }
                return (q, r)
            }
        }
    }

    /// The magnitude times 2^k (k ≥ 0), with the sign kept.
    package func shiftedLeft(_ k: Int) -> LargeInt {
        if k <= 0 { return k == 0 ? self : shiftedRight(-k) }
        return withMagnitude { a, an in
            if an == 0 { return self }
            let words = k / 64, bits = k % 64
            return LargeInt.make(capacity: an + words + 1, negative: isNegative) { r in
                r.update(repeating: 0, count: words)
                if bits == 0 {
                    (r + words).update(from: a, count: an)
                    r[words + an] = 0
                } else {
                    r[words + an] = __gmpn_lshift(r + words, a, an, UInt32(bits))
                }
                return an + words + 1
            }
        }
    }

    /// The magnitude divided by 2^k (k ≥ 0) truncated, with the sign kept.
    package func shiftedRight(_ k: Int) -> LargeInt {
        if k <= 0 { return k == 0 ? self : shiftedLeft(-k) }
        return withMagnitude { a, an in
            let words = k / 64, bits = k % 64
            if words >= an { return LargeInt.zero }
            let n = an - words
            return LargeInt.make(capacity: n, negative: isNegative) { r in
                if bits == 0 { r.update(from: a + words, count: n) } else { _ = __gmpn_rshift(r, a + words, n, UInt32(bits)) }
                return n
            }
        }
    }

    /// The greatest common divisor of the magnitudes (0 only for 0 and 0).
    package func greatestCommonDivisor(with y: LargeInt) -> LargeInt {
        withMagnitude { a, an in
            y.withMagnitude { b, bn in
                if an == 0 { return y.magnitude }
                if bn == 0 { return magnitude }
                if bn == 1 { return LargeInt(magnitude: __gmpn_gcd_1(a, an, b[0]), negative: false) }
                if an == 1 { return LargeInt(magnitude: __gmpn_gcd_1(b, bn, a[0]), negative: false) }
                // mpz_gcd on read-only views of both (mpn_gcd would destroy its inputs).
                var za = __mpz_struct(), zb = __mpz_struct(), result = __mpz_struct()
                _ = __gmpz_roinit_n(&za, a, an)
                _ = __gmpz_roinit_n(&zb, b, bn)
                __gmpz_init(&result)
                defer { __gmpz_clear(&result) }
                __gmpz_gcd(&result, &za, &zb)
                let n = Int(result._mp_size)
                return LargeInt.make(capacity: n, negative: false) { r in
                    r.update(from: result._mp_d, count: n)
                    return n
                }
            }
        }
    }

    /// ⌊√|x|⌋.
    package func squareRoot() -> LargeInt {
        withMagnitude { a, an in
            if an == 0 { return self }
            let n = (an + 1) / 2
            return LargeInt.make(capacity: n, negative: false) { s in
                _ = __gmpn_sqrtrem(s, nil, a, an)
                return n
            }
        }
    }

    /// x^k (k ≥ 0) by squaring.
    package func power(_ k: Int) -> LargeInt {
        var result = LargeInt.one, square = self, k = k
        while k > 0 {
            if k & 1 == 1 { result = result * square }
            k >>= 1
            if k > 0 { square = square * square }
        }
        return result
    }

    // MARK: Comparison

    private static func compareMagnitudes(_ a: UnsafePointer<UInt>, _ an: Int, _ b: UnsafePointer<UInt>, _ bn: Int) -> Int {
        if an != bn { return an < bn ? -1 : 1 }
        if an == 0 { return 0 }
        return Int(__gmpn_cmp(a, b, an)).signum()
    }

    /// -1, 0 or 1 as x is less than, equal to or greater than y.
    package static func compare(_ x: LargeInt, _ y: LargeInt) -> Int {
        if x.isNegative != y.isNegative { return x.isNegative ? -1 : 1 }
        let c = x.withMagnitude { a, an in y.withMagnitude { b, bn in compareMagnitudes(a, an, b, bn) } }
        return x.isNegative ? -c : c
    }

    /// -1, 0 or 1 as x is less than, equal to or greater than i.
    package func compare(_ i: Int) -> Int {
        if isNegative != (i < 0) { return isNegative ? -1 : 1 }
        let c = withMagnitude { a, n -> Int in
            let m = i.magnitude
            if n != 1 { return n == 0 ? (m == 0 ? 0 : -1) : 1 }
            return a[0] < m ? -1 : (a[0] == m ? 0 : 1)
        }
        return isNegative ? -c : c
    }

    // MARK: Conversion

    /// The nearest double (ties to even), ±infinity beyond the range.
    package var doubleValue: Double {
        if bitWidth <= 53 { return Double(smallValue ?? 0) }
        return LargeInt.roundedQuotient(self, .one)
    }

    /// n/d as the nearest double (ties to even), also when n and d exceed
    /// the double range: the quotient is computed in integers to 55+ bits
    /// and rounded once. (Dividing two rounded doubles would round twice:
    /// `(inexact (/ (+ 1 (expt 10 330)) (expt 10 329)))` came out one ulp low.)
    package static func ratioToDouble(_ n: LargeInt, _ d: LargeInt) -> Double {
        if n.bitWidth <= 53 && d.bitWidth <= 53 {
            // Both exact as doubles: IEEE division rounds once.
            return Double(n.smallValue ?? 0) / Double(d.smallValue ?? 1)
        }
        return roundedQuotient(n, d)
    }

    private static func roundedQuotient(_ n: LargeInt, _ d: LargeInt) -> Double {
        if n.isZero || d.isZero { return 0 }
        let negative = n.isNegative != d.isNegative
        let a = n.magnitude, b = d.magnitude
        // Scale so the integer quotient has at least 55 bits.
        let shift = 55 - (a.bitWidth - b.bitWidth)
        let (q, r) = shift >= 0 ? a.shiftedLeft(shift).quotientAndRemainder(dividingBy: b)
                                : a.quotientAndRemainder(dividingBy: b.shiftedLeft(-shift))
        // Keep 53 bits (fewer when the result is subnormal); the rest and
        // the remainder decide the rounding.
        let exponent = q.bitWidth - 1 - shift          // of the leading bit
        var keep = 53
        if exponent < -1022 { keep = Swift.max(0, 53 - (-1022 - exponent)) }
        let drop = q.bitWidth - keep
        var mantissa = q.shiftedRight(drop)
        let rest = q - mantissa.shiftedLeft(drop)
        let half = LargeInt.one.shiftedLeft(drop - 1)
        let c = compare(rest, half)
        if c > 0 || (c == 0 && (!r.isZero || mantissa.isOdd)) {
            mantissa = mantissa.adding(1)  // may carry to 2^53: still exact as a double
        }
        if exponent > 1023 { return negative ? -.infinity : .infinity }
        let value = Double(sign: .plus, exponent: drop - shift, significand: Double(mantissa.smallValue ?? 0))
        return negative ? -value : value
    }

    /// The digits in `radix` (2–36, lower case; any other radix is taken
    /// as 10), with a sign when negative.
    package func toString(radix: Int = 10) -> String {
        let radix = (2...36).contains(radix) ? radix : 10
        return withMagnitude { a, an in
            if an == 0 { return "0" }
            // mpn_get_str clobbers its input: it gets a copy, with the extra limb it may use.
            let scratch = UnsafeMutablePointer<UInt>.allocate(capacity: an + 1)
            defer { scratch.deallocate() }
            scratch.update(from: a, count: an)
            let bitsPerDigit = Double(Int.bitWidth - (radix - 1).leadingZeroBitCount - 1)
            let capacity = Int((Double(an * 64) / Swift.max(bitsPerDigit, 1)).rounded(.up)) + 2
            var digits = [UInt8](repeating: 0, count: capacity)
            let count = digits.withUnsafeMutableBufferPointer { d in
                __gmpn_get_str(d.baseAddress, Int32(radix), scratch, an)
            }
            var text: [UInt8] = isNegative ? [UInt8(ascii: "-")] : []
            text.reserveCapacity(count + 1)
            for digit in digits[..<count].drop(while: { $0 == 0 }) {
                text.append(digit < 10 ? digit + UInt8(ascii: "0") : digit - 10 + UInt8(ascii: "a"))
            }
            return String(decoding: text, as: UTF8.self)
        }
    }
}

extension LargeInt: Equatable, Hashable, Comparable, CustomStringConvertible {
    package static func == (x: LargeInt, y: LargeInt) -> Bool { compare(x, y) == 0 }
    package static func < (x: LargeInt, y: LargeInt) -> Bool { compare(x, y) < 0 }

    package func hash(into hasher: inout Hasher) {
        withMagnitude { a, n in
            hasher.combine(isNegative)
            hasher.combine(n)
            for k in 0..<n { hasher.combine(a[k]) }
        }
    }

    package var description: String { toString() }
}

/// A value's buffer is written only while `make` builds it, before anyone
/// else can see it: shared afterwards, it is read only.
extension LargeInt: @unchecked Sendable {}
