import Foundation

/// A number unpacked for arithmetic off the fixnum fast path.
///
/// The tower: exact integers (`fix`, `big`) ⊂ exact rationals (`rat`) and
/// inexact reals (`flo`). Results are normalised when packed back into a
/// `Value`: integers that fit become fixnums, rationals with denominator 1
/// become integers.
package enum Num {
    case fix(Int)
    case big(LargeInt)
    case rat(LargeInt, LargeInt)  // denominator > 1, lowest terms
    case flo(Double)

    package init?(_ v: Value) {
        if v.isFixnum { self = .fix(v.fixnum); return }
        if v.isInWordFlonum { self = .flo(v.inWordFlonum); return }
        guard let k = v.kind else { return nil }
        // The objects are borrowed, not retained, while their parts are read.
        switch k {
        case .flonum: self = .flo(Unmanaged<Flonum>.fromOpaque(v.objectPointer)._withUnsafeGuaranteedRef { $0.value })
        case .bignum: self = .big(Unmanaged<Bignum>.fromOpaque(v.objectPointer)._withUnsafeGuaranteedRef { $0.value })
        case .ratnum:
            self = Unmanaged<Ratnum>.fromOpaque(v.objectPointer)._withUnsafeGuaranteedRef { .rat($0.numerator, $0.denominator) }
        default: return nil
        }
    }

    static func integer(_ b: LargeInt) -> Num {
        if let i = b.smallValue { return .fix(i) }
        return .big(b)
    }

    /// n/d in lowest terms, as an integer when d divides n.
    static func rational(_ n: LargeInt, _ d: LargeInt) -> Num? {
        if d.isZero { return nil }
        var n = n, d = d
        if d.isNegative { n = -n; d = -d }
        let g = n.greatestCommonDivisor(with: d)
        if g.compare(1) != 0 {
            n = n.quotientAndRemainder(dividingBy: g).quotient
            d = d.quotientAndRemainder(dividingBy: g).quotient
        }
        if d.compare(1) == 0 { return integer(n) }
        return .rat(n, d)
    }

    /// n/d for n and d already coprime (a power of a normalised ratio): no gcd to take.
    static func coprimeRational(_ n: LargeInt, _ d: LargeInt) -> Num? {
        if d.isZero { return nil }
        let (n, d) = d.isNegative ? (-n, -d) : (n, d)
        if d.compare(1) == 0 { return integer(n) }
        return .rat(n, d)
    }

    var isExact: Bool { if case .flo = self { return false } else { return true } }

    var bigValue: LargeInt {
        switch self {
        case .fix(let i): return LargeInt(i)
        case .big(let b): return b
        case .rat(let n, _): return n
        case .flo(let d): return LargeInt(truncating: d)
        }
    }

    package var numerator: LargeInt {
        if case .rat(let n, _) = self { return n }
        return bigValue
    }
    package var denominator: LargeInt {
        if case .rat(_, let d) = self { return d }
        return .one
    }

    package var doubleValue: Double {
        switch self {
        case .fix(let i): return Double(i)
        case .big(let b): return b.doubleValue
        case .rat(let n, let d): return LargeInt.ratioToDouble(n, d)
        case .flo(let d): return d
        }
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
        case .big(let b): return b.signum
        case .rat(let n, _): return n.signum
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
        switch (a, b) {
        case (.fix(let x), .fix(let y)):
            let (r, o) = x.addingReportingOverflow(y)
            return o ? .big(LargeInt(x).adding(y)) : .fix(r)
        // A large integer and a small one: no large integer made of the small.
        case (.big(let x), .fix(let y)), (.fix(let y), .big(let x)): return integer(x.adding(y))
        case (.big(let x), .big(let y)): return integer(x + y)
        default: break
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
        case .fix(let x): return x == Int.min ? .big(-LargeInt(x)) : .fix(-x)
        case .big(let b): return integer(-b)
        case .rat(let n, let d): return .rat(-n, d)
        case .flo(let d): return .flo(-d)
        }
    }

    static func sub(_ a: Num, _ b: Num) -> Num {
        switch (a, b) {
        case (.fix(let x), .fix(let y)):
            let (r, o) = x.subtractingReportingOverflow(y)
            return o ? .big(LargeInt(x) - LargeInt(y)) : .fix(r)
        case (.big(let x), .fix(let y)) where y != Int.min: return integer(x.adding(-y))
        case (.big(let x), .big(let y)): return integer(x - y)
        default: return add(a, negate(b))
        }
    }

    static func mul(_ a: Num, _ b: Num) -> Num {
        switch (a, b) {
        case (.fix(let x), .fix(let y)):
            let (r, o) = x.multipliedReportingOverflow(by: y)
            return o ? .big(LargeInt(x).multiplied(by: y)) : .fix(r)
        case (.big(let x), .fix(let y)), (.fix(let y), .big(let x)): return integer(x.multiplied(by: y))
        case (.big(let x), .big(let y)): return integer(x * y)
        default: break
        }
        switch level(a, b) {
        case 0: return integer(a.bigValue * b.bigValue)
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
        switch (a, b) {
        case (.big(let x), .fix(let y)): return x.compare(y)
        case (.fix(let x), .big(let y)): return -y.compare(x)
        case (.rat, _), (_, .rat):
            return LargeInt.compare(a.numerator * b.denominator, b.numerator * a.denominator)
        default: return LargeInt.compare(a.numerator, b.numerator)
        }
    }

    /// The exact rational equal to a finite double.
    package static func exact(fromDouble d: Double) -> Num {
        if d == d.rounded(.towardZero), abs(d) < 9.0e18 { return .fix(Int(d)) }
        var x = d
        var pow2 = 0
        while x != x.rounded(.towardZero) && pow2 < 1100 { x *= 2; pow2 += 1 }
        return rational(LargeInt(truncating: x), LargeInt.one.shiftedLeft(pow2)) ?? .fix(0)
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
        var (q, r) = x.quotientAndRemainder(dividingBy: y)
        if kind == .floor && !r.isZero && r.isNegative != y.isNegative { q = q.adding(-1); r = r + y }
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
            let (q0, r) = n.quotientAndRemainder(dividingBy: d)  // truncates
            var q = q0
            switch mode {
            case .truncate: break
            case .floor: if r.isNegative { q = q.adding(-1) }
            case .ceiling: if r.signum > 0 { q = q.adding(1) }
            case .round:
                let c = LargeInt.compare(r.magnitude.shiftedLeft(1), d)   // d > 0
                if c > 0 || (c == 0 && q.isOdd) { q = q.adding(n.isNegative ? -1 : 1) }
            }
            return integer(q)
        }
    }

    /// The exact square root of a non-negative exact number that is the
    /// square of a rational (`4/9` → `2/3`), else nil.
    var exactSquareRoot: Num? {
        guard isExact, sign >= 0 else { return nil }
        let p = numerator, q = denominator
        let sp = p.squareRoot(), sq = q.squareRoot()
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
        Value.fitsFixnum(n) ? Value(fixnum: n) : Value(object: register(Bignum(LargeInt(n))))
    }

    func integer(_ b: LargeInt) -> Value {
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
