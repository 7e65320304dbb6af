import Foundation

/// A non-real complex number (R7RS 6.2, `(scheme complex)`), exact or
/// inexact: an imaginary part that is an exact zero makes the number real,
/// so a `Compnum` always has a non-zero or inexact imaginary part
/// (`-2.5+0.0i` is complex, `-2.5+0i` is the real `-2.5`).
final class Compnum: HeapObject {
    let real: Num
    let imag: Num
    init(_ real: Num, _ imag: Num) {
        self.real = real
        self.imag = imag
        super.init(kind: .compnum)
    }
    override var approximateSize: Int { 96 }
}

/// Complex arithmetic on pairs of real `Num`s. The real tower (`Num`) stays
/// as it is; a value that is complex takes these paths instead.
struct Complex {
    var re: Num
    var im: Num

    init(_ re: Num, _ im: Num) { self.re = re; self.im = im }

    /// Any number value as a complex number (reals with an exact zero imaginary part).
    init?(_ v: Value) {
        if let c = v.as(Compnum.self) { self.init(c.real, c.imag); return }
        guard let r = Num(v) else { return nil }
        self.init(r, .fix(0))
    }

    init(_ d: (Double, Double)) { self.init(.flo(d.0), .flo(d.1)) }

    var isExact: Bool { re.isExact && im.isExact }
    var isReal: Bool { im.isExact && im.isZero }
    var doubles: (Double, Double) { (re.doubleValue, im.doubleValue) }

    var toInexact: Complex { Complex(re.toInexact, im.toInexact) }
    var toExact: Complex? {
        guard let r = re.toExact, let i = im.toExact else { return nil }
        return Complex(r, i)
    }

    static func + (a: Complex, b: Complex) -> Complex { Complex(Num.add(a.re, b.re), Num.add(a.im, b.im)) }
    static func - (a: Complex, b: Complex) -> Complex { Complex(Num.sub(a.re, b.re), Num.sub(a.im, b.im)) }
    static func * (a: Complex, b: Complex) -> Complex {
        Complex(Num.sub(Num.mul(a.re, b.re), Num.mul(a.im, b.im)), Num.add(Num.mul(a.re, b.im), Num.mul(a.im, b.re)))
    }
    /// a / b; nil when dividing exactly by an exact zero.
    static func / (a: Complex, b: Complex) -> Complex? {
        if b.isReal {
            guard let r = Num.div(a.re, b.re), let i = Num.div(a.im, b.re) else { return nil }
            return Complex(r, i)
        }
        let d = Num.add(Num.mul(b.re, b.re), Num.mul(b.im, b.im))
        let nr = Num.add(Num.mul(a.re, b.re), Num.mul(a.im, b.im))
        let ni = Num.sub(Num.mul(a.im, b.re), Num.mul(a.re, b.im))
        guard let r = Num.div(nr, d), let i = Num.div(ni, d) else { return nil }
        return Complex(r, i)
    }
    static prefix func - (a: Complex) -> Complex { Complex(Num.negate(a.re), Num.negate(a.im)) }

    /// = on complex numbers: both parts equal.
    static func numericallyEqual(_ a: Complex, _ b: Complex) -> Bool {
        Num.compare(a.re, b.re) == 0 && Num.compare(a.im, b.im) == 0
    }

    var magnitude: Num {
        if isReal { return re.sign < 0 ? Num.negate(re) : re }
        // |3+4i| is exactly 5.
        if isExact, let r = Num.add(Num.mul(re, re), Num.mul(im, im)).exactSquareRoot { return r }
        let (x, y) = doubles
        if x.isInfinite || y.isInfinite { return .flo(.infinity) }
        return .flo(hypot(x, y))
    }

    var angle: Num {
        if isReal && re.isExact && re.sign >= 0 { return .fix(0) }
        let (x, y) = doubles
        return .flo(Foundation.atan2(y, x))
    }

    static func polar(_ m: Num, _ a: Num) -> Complex {
        if a.isExact && a.isZero { return Complex(m, .fix(0)) }
        let md = m.doubleValue, ad = a.doubleValue
        return Complex((md * Foundation.cos(ad), md * Foundation.sin(ad)))
    }

    // MARK: Transcendental functions (principal values, as R7RS 6.2.6 defines them)

    static func exp(_ z: Complex) -> Complex {
        let (x, y) = z.doubles
        let m = Foundation.exp(x)
        return Complex((m * Foundation.cos(y), m * Foundation.sin(y)))
    }

    /// log z = log|z| + i·angle z.
    static func log(_ z: Complex) -> Complex {
        let (x, y) = z.doubles
        return Complex((Foundation.log(hypot(x, y)), Foundation.atan2(y, x)))
    }

    static func sqrt(_ z: Complex) -> Complex {
        let (x, y) = z.doubles
        if y == 0 && !z.im.isExact && x >= 0 { return Complex((x.squareRoot(), y)) }
        let m = hypot(x, y)
        var re = ((m + x) / 2).squareRoot()
        var im = ((m - x) / 2).squareRoot()
        if y < 0 || (y == 0 && y.sign == .minus) { im = -im }
        if re.isNaN { re = 0 }
        return Complex((re, im))
    }

    /// z1^z2 = e^(z2 log z1), with 0^z = 0 for a z whose real part is positive.
    static func expt(_ base: Complex, _ e: Complex) -> Complex {
        if base.re.isZero && base.im.isZero {
            if e.re.isZero && e.im.isZero { return Complex(.flo(1), .flo(0)) }
            return Complex(.flo(0), .flo(0))
        }
        return exp(e * log(base))
    }

    static func sin(_ z: Complex) -> Complex {
        let (x, y) = z.doubles
        return Complex((Foundation.sin(x) * cosh(y), Foundation.cos(x) * sinh(y)))
    }
    static func cos(_ z: Complex) -> Complex {
        let (x, y) = z.doubles
        return Complex((Foundation.cos(x) * cosh(y), -Foundation.sin(x) * sinh(y)))
    }
    static func tan(_ z: Complex) -> Complex? { sin(z) / cos(z) }

    private static let i = Complex(.fix(0), .fix(1))
    private static let one = Complex(.fix(1), .fix(0))

    /// asin z = -i log(iz + sqrt(1 - z²))
    static func asin(_ z: Complex) -> Complex {
        -i * log(i * z + sqrt(one - z * z))
    }
    /// acos z = π/2 - asin z
    static func acos(_ z: Complex) -> Complex {
        Complex(.flo(Double.pi / 2), .fix(0)) - asin(z)
    }
    /// atan z = (log(1 + iz) - log(1 - iz)) / 2i
    static func atan(_ z: Complex) -> Complex? {
        (log(one + i * z) - log(one - i * z)) / Complex(.fix(0), .fix(2))
    }
}

extension Heap {
    /// Packs a complex number: a real when its imaginary part is an exact
    /// zero, else with both parts exact or both inexact.
    func number(_ z: Complex) -> Value {
        if z.isReal { return number(z.re) }
        if z.re.isExact != z.im.isExact { return Value(object: register(Compnum(z.re.toInexact, z.im.toInexact))) }
        return Value(object: register(Compnum(z.re, z.im)))
    }
}
