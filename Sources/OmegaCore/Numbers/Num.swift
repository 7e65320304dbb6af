import BigInt
import Foundation

/// A number unpacked for arithmetic off the fixnum fast path.
///
/// The tower: exact integers (`fix`, `big`) ⊂ exact rationals (`rat`) and
/// inexact reals (`flo`). Results are normalised when packed back into a
/// `Value`: integers that fit become fixnums, rationals with denominator 1
/// become integers.
package enum Num {
    case fix(Int)
    case big(BigInt)
    case rat(BigInt, BigInt)  // denominator > 1, lowest terms
    case flo(Double)

    package init?(_ v: Value) {
        if v.isFixnum { self = .fix(v.fixnum); return }
        if v.isInWordFlonum { self = .flo(v.inWordFlonum); return }
        guard let k = v.kind else { return nil }
        switch k {
        case .flonum: self = .flo(v.unsafeObject(Flonum.self).value)
        case .bignum: self = .big(v.unsafeObject(Bignum.self).value)
        case .ratnum:
            let r = v.unsafeObject(Ratnum.self)
            self = .rat(r.numerator, r.denominator)
        default: return nil
        }
    }

    static func integer(_ b: BigInt) -> Num {
        if let i = b.smallValue { return .fix(i) }
        return .big(b)
    }

    /// n/d in lowest terms, as an integer when d divides n.
    static func rational(_ n: BigInt, _ d: BigInt) -> Num? {
        if d.isZero { return nil }
        var n = n, d = d
        if d.sign == .minus { n = -n; d = -d }
        let g = n.greatestCommonDivisor(with: d)
        if g != 1 { n /= g; d /= g }
        if d == 1 { return integer(n) }
        return .rat(n, d)
    }

    var isExact: Bool { if case .flo = self { return false } else { return true } }

    var bigValue: BigInt {
        switch self {
        case .fix(let i): return BigInt(small: i)
        case .big(let b): return b
        case .rat(let n, _): return n
        case .flo(let d): return d.isFinite ? BigInt(d) : 0
        }
    }

    package var numerator: BigInt {
        if case .rat(let n, _) = self { return n }
        return bigValue
    }
    package var denominator: BigInt {
        if case .rat(_, let d) = self { return d }
        return 1
    }

    package var doubleValue: Double {
        switch self {
        case .fix(let i): return Double(i)
        case .big(let b): return Num.bigToDouble(b)
        case .rat(let n, let d): return Num.ratioToDouble(n, d)
        case .flo(let d): return d
        }
    }

    /// n/d as the nearest double (ties to even), also when n and d exceed
    /// the double range: the quotient is computed in integers to 55+ bits
    /// and rounded once. (Dividing two rounded doubles would round twice:
    /// `(inexact (/ (+ 1 (expt 10 330)) (expt 10 329)))` came out one ulp low.)
    static func ratioToDouble(_ n: BigInt, _ d: BigInt) -> Double {
        let limit = BigInt(1) << 53
        if n.magnitude < limit.magnitude && d.magnitude < limit.magnitude {
            return Double(n) / Double(d)  // both exact: IEEE division rounds once
        }
        return roundedQuotient(n, d)
    }

    /// An integer as the nearest double.
    static func bigToDouble(_ b: BigInt) -> Double {
        if b.magnitude.bitWidth <= 53 { return Double(b) }
        return roundedQuotient(b, 1)
    }

    private static func roundedQuotient(_ n: BigInt, _ d: BigInt) -> Double {
        if n.isZero { return 0 }
        let negative = (n.sign == .minus) != (d.sign == .minus)
        let a = n.magnitude, b = d.magnitude
        // Scale so the integer quotient has at least 55 bits.
        let shift = 55 - (a.bitWidth - b.bitWidth)
        let (q, r) = shift >= 0 ? (a << shift).quotientAndRemainder(dividingBy: b)
                                : a.quotientAndRemainder(dividingBy: b << -shift)
        // Keep 53 bits (fewer when the result is subnormal); the rest and
        // the remainder decide the rounding.
        let exponent = q.bitWidth - 1 - shift          // of the leading bit
        var keep = 53
        if exponent < -1022 { keep = max(0, 53 - (-1022 - exponent)) }
        let drop = q.bitWidth - keep
        var mantissa = q >> drop
        let rest = q - (mantissa << drop)
        let half = BigUInt(1) << (drop - 1)
        if rest > half || (rest == half && (!r.isZero || mantissa.words.first.map { $0 & 1 == 1 } ?? false)) {
            mantissa += 1  // may carry to 2^53: still exact as a double
        }
        if exponent > 1023 { return negative ? -.infinity : .infinity }
        let value = Double(sign: .plus, exponent: drop - shift, significand: Double(mantissa))
        return negative ? -value : value
    }

    var isZero: Bool {
        switch self {
        case .fix(let i): return i == 0
        case .big: return false
        case .rat: return false
        case .flo(let d): return d == 0
        }
    }

    var sign: Int {
        switch self {
        case .fix(let i): return i.signum()
        case .big(let b): return b.sign == .minus ? -1 : 1
        case .rat(let n, _): return n.sign == .minus ? -1 : 1
        case .flo(let d): return d > 0 ? 1 : (d < 0 ? -1 : 0)
        }
    }

    var isInteger: Bool {
        switch self {
        case .fix, .big: return true
        case .rat: return false
        case .flo(let d): return d.isFinite && d == d.rounded(.towardZero)
        }
    }

    // MARK: Arithmetic

    /// The level both operands are brought to: 0 integer, 1 rational, 2 float.
    private static func level(_ a: Num, _ b: Num) -> Int {
        func l(_ x: Num) -> Int {
            switch x { case .fix, .big: return 0; case .rat: return 1; case .flo: return 2 }
        }
        return max(l(a), l(b))
    }

    static func add(_ a: Num, _ b: Num) -> Num {
        if case .fix(let x) = a, case .fix(let y) = b {
            let (r, o) = x.addingReportingOverflow(y)
            return o ? .big(BigInt(small: x) + BigInt(small: y)) : .fix(r)
        }
        switch level(a, b) {
        case 0: return integer(a.bigValue + b.bigValue)
        case 1:
            return rational(a.numerator * b.denominator + b.numerator * a.denominator,
                            a.denominator * b.denominator) ?? .fix(0)
        default: return .flo(a.doubleValue + b.doubleValue)
        }
    }

    static func negate(_ a: Num) -> Num {
        switch a {
        case .fix(let x): return x == Int.min ? .big(-BigInt(small: x)) : .fix(-x)
        case .big(let b): return integer(-b)
        case .rat(let n, let d): return .rat(-n, d)
        case .flo(let d): return .flo(-d)
        }
    }

    static func sub(_ a: Num, _ b: Num) -> Num {
        if case .fix(let x) = a, case .fix(let y) = b {
            let (r, o) = x.subtractingReportingOverflow(y)
            return o ? .big(BigInt(small: x) - BigInt(small: y)) : .fix(r)
        }
        return add(a, negate(b))
    }

    static func mul(_ a: Num, _ b: Num) -> Num {
        if case .fix(let x) = a, case .fix(let y) = b {
            let (r, o) = x.multipliedReportingOverflow(by: y)
            return o ? .big(BigInt(small: x) * BigInt(small: y)) : .fix(r)
        }
        switch level(a, b) {
        case 0: return integer(LargeIntegers.multiply(a.bigValue, b.bigValue))
        case 1: return rational(a.numerator * b.numerator, a.denominator * b.denominator) ?? .fix(0)
        default: return .flo(a.doubleValue * b.doubleValue)
        }
    }

    /// a / b; nil when dividing an exact number by exact zero.
    static func div(_ a: Num, _ b: Num) -> Num? {
        if level(a, b) == 2 { return .flo(a.doubleValue / b.doubleValue) }
        if b.isZero { return nil }
        return rational(a.numerator * b.denominator, a.denominator * b.numerator)
    }

    /// -1, 0 or 1; nil when either is NaN.
    static func compare(_ a: Num, _ b: Num) -> Int? {
        switch (a, b) {
        case (.fix(let x), .fix(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        default: break
        }
        if case .flo(let x) = a, case .flo(let y) = b {
            if x.isNaN || y.isNaN { return nil }
            return x < y ? -1 : (x == y ? 0 : 1)
        }
        // Compare a float with an exact number exactly (R7RS transitivity).
        if case .flo(let x) = a {
            if x.isNaN { return nil }
            if x.isInfinite { return x < 0 ? -1 : 1 }
            return compare(Num.exact(fromDouble: x), b)
        }
        if case .flo(let y) = b {
            if y.isNaN { return nil }
            if y.isInfinite { return y < 0 ? 1 : -1 }
            return compare(a, Num.exact(fromDouble: y))
        }
        // Two integers compare as they are; a rational against the other
        // side's numerator times its denominator.
        let l: BigInt, r: BigInt
        switch (a, b) {
        case (.rat, _), (_, .rat): l = a.numerator * b.denominator; r = b.numerator * a.denominator
        default: l = a.numerator; r = b.numerator
        }
        return l < r ? -1 : (l == r ? 0 : 1)
    }

    /// The exact rational equal to a finite double.
    package static func exact(fromDouble d: Double) -> Num {
        if d == d.rounded(.towardZero), abs(d) < 9.0e18 { return .fix(Int(d)) }
        var x = d
        var pow2 = 0
        while x != x.rounded(.towardZero) && pow2 < 1100 { x *= 2; pow2 += 1 }
        let n = BigInt(x)
        return rational(n, BigInt(1) << pow2) ?? .fix(0)
    }

    // MARK: Integer division

    enum DivisionKind { case truncate, floor }

    /// Quotient and remainder of integers (exact or integral floats).
    static func intDivide(_ a: Num, _ b: Num, _ kind: DivisionKind) -> (Num, Num)? {
        if !a.isExact || !b.isExact {
            let x = a.doubleValue, y = b.doubleValue
            if y == 0 { return nil }
            var q = (x / y).rounded(.towardZero)
            if kind == .floor { q = (x / y).rounded(.down) }
            return (.flo(q), .flo(x - q * y))
        }
        if case .fix(let x) = a, case .fix(let y) = b {
            if y == 0 { return nil }
            if !(x == Int.min && y == -1) {
                var q = x / y, r = x % y
                if kind == .floor && r != 0 && ((r < 0) != (y < 0)) { q -= 1; r += y }
                return (.fix(q), .fix(r))
            }
        }
        let x = a.bigValue, y = b.bigValue
        if y.isZero { return nil }
        var (q, r) = LargeIntegers.quotientAndRemainder(x, y)
        if kind == .floor && !r.isZero && ((r.sign == .minus) != (y.sign == .minus)) { q -= 1; r += y }
        return (integer(q), integer(r))
    }

    // MARK: Rounding

    enum Rounding { case floor, ceiling, truncate, round }

    static func round(_ a: Num, _ mode: Rounding) -> Num {
        switch a {
        case .fix, .big: return a
        case .flo(let d):
            switch mode {
            case .floor: return .flo(d.rounded(.down))
            case .ceiling: return .flo(d.rounded(.up))
            case .truncate: return .flo(d.rounded(.towardZero))
            case .round: return .flo(d.rounded(.toNearestOrEven))
            }
        case .rat(let n, let d):
            var (q, r) = n.quotientAndRemainder(dividingBy: d)  // truncates
            switch mode {
            case .truncate: break
            case .floor: if r.sign == .minus { q -= 1 }
            case .ceiling: if r.sign == .plus && !r.isZero { q += 1 }
            case .round:
                let twice = r.magnitude * 2
                if twice > d.magnitude || (twice == d.magnitude && q.magnitude % 2 == 1) {
                    q += (n.sign == .minus ? -1 : 1)
                }
                r = 0
            }
            return integer(q)
        }
    }

    /// The exact square root of a non-negative exact number that is the
    /// square of a rational (`4/9` → `2/3`), else nil.
    var exactSquareRoot: Num? {
        guard isExact, sign >= 0 else { return nil }
        let p = numerator, q = denominator
        let sp = BigInt(p.magnitude.squareRoot()), sq = BigInt(q.magnitude.squareRoot())
        guard sp * sp == p && sq * sq == q else { return nil }
        return Num.rational(sp, sq)
    }

    // MARK: Conversion

    var toExact: Num? {
        if case .flo(let d) = self { return d.isFinite ? Num.exact(fromDouble: d) : nil }
        return self
    }
    var toInexact: Num { .flo(doubleValue) }
}

extension Heap {
    /// An exact integer value: a fixnum when it fits.
    @inline(__always) package func integer(_ n: Int) -> Value {
        Value.fitsFixnum(n) ? Value(fixnum: n) : Value(object: register(Bignum(BigInt(small: n))))
    }

    func integer(_ b: BigInt) -> Value {
        if let i = b.smallValue, Value.fitsFixnum(i) { return Value(fixnum: i) }
        return Value(object: register(Bignum(b)))
    }

    /// Packs a number back into a value.
    package func number(_ n: Num) -> Value {
        switch n {
        case .fix(let i): return integer(i)
        case .big(let b): return integer(b)
        case .rat(let p, let q): return Value(object: register(Ratnum(p, q)))
        case .flo(let d): return flonum(d)
        }
    }
}
