import Foundation

/// Numbers: arithmetic, comparison, predicates, conversion (R7RS 6.2).
enum NumberLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        registerArithmetic(i)
        registerComparison(i)
        registerPredicates(i)
        registerIntegerDivision(i)
        registerRounding(i)
        registerTranscendental(i)
        registerConversion(i)
        registerComplex(i)
    }

    /// Whether any argument is a non-real complex number (then the complex
    /// paths run; the real tower's fast paths never see one).
    private static func anyComplex(_ args: Arguments) -> Bool {
        for k in 0..<args.count where args[k].isObject(of: .compnum) { return true }
        return false
    }

    private static func complexArgument(_ v: Value, _ arg: Int) throws -> Complex {
        guard let z = Complex(v) else { throw SchemeError.wrongType(v, expected: "a number", argument: arg) }
        return z
    }

    /// Folds a variadic argument list with a binary operation.
    private static func fold(_ args: Arguments, _ start: Num, _ op: (Num, Num) throws -> Num) throws -> Num {
        var acc = start
        for k in 0..<args.count { acc = try op(acc, try Check.number(args[k], k + 1)) }
        return acc
    }

    private static func registerArithmetic(_ i: Interpreter) {
        i.define("+", min: 0, max: nil) { i, args in
            if anyComplex(args) {
                var z = Complex(.fix(0), .fix(0))
                for k in 0..<args.count { z = z + (try complexArgument(args[k], k + 1)) }
                return i.heap.number(z)
            }
            return i.heap.number(try fold(args, .fix(0), Num.add))
        }
        i.define("*", min: 0, max: nil) { i, args in
            if anyComplex(args) {
                var z = Complex(.fix(1), .fix(0))
                for k in 0..<args.count { z = z * (try complexArgument(args[k], k + 1)) }
                return i.heap.number(z)
            }
            return i.heap.number(try fold(args, .fix(1), Num.mul))
        }
        i.define("-", min: 1, max: nil) { i, args in
            if anyComplex(args) {
                var z = try complexArgument(args[0], 1)
                if args.count == 1 { return i.heap.number(-z) }
                for k in 1..<args.count { z = z - (try complexArgument(args[k], k + 1)) }
                return i.heap.number(z)
            }
            let first = try Check.number(args[0], 1)
            if args.count == 1 { return i.heap.number(Num.negate(first)) }
            var acc = first
            for k in 1..<args.count { acc = Num.sub(acc, try Check.number(args[k], k + 1)) }
            return i.heap.number(acc)
        }
        i.define("/", min: 1, max: nil) { i, args in
            if anyComplex(args) {
                var z = try complexArgument(args[0], 1)
                if args.count == 1 { z = Complex(.fix(1), .fix(0)) }
                for k in (args.count == 1 ? 0 : 1)..<args.count {
                    guard let q = z / (try complexArgument(args[k], k + 1)) else {
                        throw SchemeError(.divisionByZero, "division by zero")
                    }
                    z = q
                }
                return i.heap.number(z)
            }
            let first = try Check.number(args[0], 1)
            if args.count == 1 {
                guard let r = Num.div(.fix(1), first) else { throw SchemeError(.divisionByZero, "division by zero") }
                return i.heap.number(r)
            }
            var acc = first
            for k in 1..<args.count {
                guard let r = Num.div(acc, try Check.number(args[k], k + 1)) else {
                    throw SchemeError(.divisionByZero, "division by zero")
                }
                acc = r
            }
            return i.heap.number(acc)
        }
        i.define("abs") { i, x in
            let n = try Check.number(x)
            return n.sign < 0 ? i.heap.number(Num.negate(n)) : x
        }

        func extremum(_ name: String, _ pick: @escaping (Int) -> Bool) {
            i.define(name, min: 1, max: nil) { i, args in
                var best = try Check.number(args[0], 1)
                var inexact = !best.isExact
                for k in 1..<args.count {
                    let n = try Check.number(args[k], k + 1)
                    if !n.isExact { inexact = true }
                    if case .flo(let d) = n, d.isNaN { best = n; continue }
                    if let c = Num.compare(n, best), pick(c) { best = n }
                }
                return i.heap.number(inexact ? best.toInexact : best)
            }
        }
        extremum("max") { $0 > 0 }
        extremum("min") { $0 < 0 }
        i.define("gcd", min: 0, max: nil) { i, args in
            var g = LargeInt.zero
            var inexact = false
            for k in 0..<args.count {
                let n = try Check.integer(args[k], k + 1)
                if !n.isExact { inexact = true }
                g = g.greatestCommonDivisor(with: n.bigValue)
            }
            return inexact ? i.heap.flonum(g.doubleValue) : i.heap.integer(g)
        }
        i.define("lcm", min: 0, max: nil) { i, args in
            var l = LargeInt.one
            var inexact = false
            for k in 0..<args.count {
                let num = try Check.integer(args[k], k + 1)
                if !num.isExact { inexact = true }
                let n = num.bigValue
                if n.isZero { return inexact ? i.heap.flonum(0) : Value(fixnum: 0) }
                l = (l * n).magnitude.quotientAndRemainder(dividingBy: l.greatestCommonDivisor(with: n)).quotient
            }
            return inexact ? i.heap.flonum(l.doubleValue) : i.heap.integer(l)
        }
        i.define("square") { i, x in
            if let c = x.as(Compnum.self) { let z = Complex(c.real, c.imag); return i.heap.number(z * z) }
            let n = try Check.number(x)
            return i.heap.number(Num.mul(n, n))
        }
        i.define("numerator") { i, x in
            let n = try Check.number(x)
            if case .flo(let d) = n {
                guard let e = n.toExact else { return x }
                return i.heap.flonum(e.numerator.isZero ? d * 0 : e.numerator.doubleValue)
            }
            return i.heap.integer(n.numerator)
        }
        i.define("denominator") { i, x in
            let n = try Check.number(x)
            if case .flo = n {
                guard let e = n.toExact else { return x }
                return i.heap.flonum(e.denominator.doubleValue)
            }
            return i.heap.integer(n.denominator)
        }
    }

    private static func registerComparison(_ i: Interpreter) {
        func comparison(_ name: String, _ ok: @escaping (Int) -> Bool) {
            i.define(name, min: 1, max: nil) { _, args in
                var prev = try Check.number(args[0], 1)
                var result = true
                for k in 1..<args.count {
                    let n = try Check.number(args[k], k + 1)
                    if result {
                        guard let c = Num.compare(prev, n), ok(c) else { result = false; prev = n; continue }
                    }
                    prev = n
                }
                return Value(result)
            }
        }
        i.define("=", min: 1, max: nil) { _, args in
            if anyComplex(args) {
                var prev = try complexArgument(args[0], 1)
                var result = true
                for k in 1..<args.count {
                    let z = try complexArgument(args[k], k + 1)
                    if !Complex.numericallyEqual(prev, z) { result = false }
                    prev = z
                }
                return Value(result)
            }
            var prev = try Check.number(args[0], 1)
            var result = true
            for k in 1..<args.count {
                let n = try Check.number(args[k], k + 1)
                if Num.compare(prev, n) != 0 { result = false }
                prev = n
            }
            return Value(result)
        }
        comparison("<") { $0 < 0 }
        comparison(">") { $0 > 0 }
        comparison("<=") { $0 <= 0 }
        comparison(">=") { $0 >= 0 }
    }

    private static func registerPredicates(_ i: Interpreter) {
        i.define("number?") { _, x in Value(x.isNumber) }
        i.define("complex?") { _, x in Value(x.isNumber) }
        i.define("real?") { _, x in Value(x.isNumber && !x.isObject(of: .compnum)) }
        i.define("rational?") { _, x in
            guard let n = Num(x) else { return .false }
            if case .flo(let d) = n { return Value(d.isFinite) }
            return .true
        }
        i.define("integer?") { _, x in Value(Num(x)?.isInteger ?? false) }
        i.define("exact?") { _, x in Value(try complexArgument(x, 1).isExact) }
        i.define("inexact?") { _, x in Value(!(try complexArgument(x, 1).isExact)) }
        i.define("exact-integer?") { _, x in Value(x.isExactInteger) }
        i.define("exact-rational?") { _, x in Value(Num(x)?.isExact ?? false) }
        // A complex number is NaN or infinite when either part is; finite when both are.
        func parts(_ x: Value) throws -> [Num] {
            let z = try complexArgument(x, 1)
            return z.isReal ? [z.re] : [z.re, z.im]
        }
        i.define("nan?") { _, x in
            Value(try parts(x).contains { if case .flo(let d) = $0 { return d.isNaN } else { return false } })
        }
        i.define("infinite?") { _, x in
            Value(try parts(x).contains { if case .flo(let d) = $0 { return d.isInfinite } else { return false } })
        }
        i.define("finite?") { _, x in
            Value(try parts(x).allSatisfy { if case .flo(let d) = $0 { return d.isFinite } else { return true } })
        }
        i.define("zero?") { _, x in Value(try parts(x).allSatisfy { $0.isZero }) }
        i.define("positive?") { _, x in
            let n = try Check.number(x)
            if case .flo(let d) = n { return Value(d > 0) }
            return Value(n.sign > 0)
        }
        i.define("negative?") { _, x in
            let n = try Check.number(x)
            if case .flo(let d) = n { return Value(d < 0) }
            return Value(n.sign < 0)
        }
        i.define("odd?") { _, x in
            let n = try Check.integer(x)
            if case .fix(let v) = n { return Value(v & 1 != 0) }
            if case .flo(let d) = n { return Value(d.truncatingRemainder(dividingBy: 2) != 0) }
            return Value(n.bigValue.isOdd)
        }
        i.define("even?") { _, x in
            let n = try Check.integer(x)
            if case .fix(let v) = n { return Value(v & 1 == 0) }
            if case .flo(let d) = n { return Value(d.truncatingRemainder(dividingBy: 2) == 0) }
            return Value(!n.bigValue.isOdd)
        }
    }

    private static func registerIntegerDivision(_ i: Interpreter) {
        func divide(_ a: Value, _ b: Value, _ kind: Num.DivisionKind) throws -> (Num, Num) {
            let x = try Check.integer(a, 1), y = try Check.integer(b, 2)
            guard let qr = Num.intDivide(x, y, kind) else {
                throw SchemeError(.divisionByZero, "division by zero")
            }
            return qr
        }
        func quotient(_ name: String, _ kind: Num.DivisionKind) {
            i.define(name) { i, a, b in i.heap.number(try divide(a, b, kind).0) }
        }
        func remainder(_ name: String, _ kind: Num.DivisionKind) {
            i.define(name) { i, a, b in i.heap.number(try divide(a, b, kind).1) }
        }
        func both(_ name: String, _ kind: Num.DivisionKind) {
            i.define(name) { i, a, b in
                let (q, r) = try divide(a, b, kind)
                return Value(object: i.heap.register(MultipleValues([i.heap.number(q), i.heap.number(r)])))
            }
        }
        quotient("quotient", .truncate)
        remainder("remainder", .truncate)
        remainder("modulo", .floor)
        quotient("truncate-quotient", .truncate)
        remainder("truncate-remainder", .truncate)
        quotient("floor-quotient", .floor)
        remainder("floor-remainder", .floor)
        both("truncate/", .truncate)
        both("floor/", .floor)
        i.define("exact-integer-sqrt") { i, x in
            guard x.isExactInteger, let n = Num(x), n.sign >= 0 else {
                throw SchemeError.wrongType(x, expected: "a non-negative exact integer")
            }
            let b = n.bigValue
            let s = b.squareRoot()
            return Value(object: i.heap.register(MultipleValues([i.heap.integer(s), i.heap.integer(b - s * s)])))
        }
    }

    private static func registerRounding(_ i: Interpreter) {
        for (name, mode) in [("floor", Num.Rounding.floor), ("ceiling", .ceiling), ("truncate", .truncate), ("round", .round)] {
            i.define(name) { i, x in
                let n = try Check.number(x)
                if n.isInteger && n.isExact { return x }
                return i.heap.number(Num.round(n, mode))
            }
        }
    }

    private static func registerTranscendental(_ i: Interpreter) {
        /// A real function, or its complex extension for complex arguments
        /// and for reals outside its real domain (asin 2, acos -3).
        func unary(_ name: String, _ f: @escaping (Double) -> Double, _ domain: @escaping (Double) -> Bool,
                   _ complex: @escaping (Complex) -> Complex?) {
            i.define(name) { i, x in
                if !x.isObject(of: .compnum) {
                    let d = try Check.number(x).doubleValue
                    if domain(d) || d.isNaN { return i.heap.flonum(f(d)) }
                }
                guard let z = complex(try complexArgument(x, 1)) else { throw SchemeError(.divisionByZero, "division by zero") }
                return i.heap.number(z.toInexact)
            }
        }
        let anywhere: (Double) -> Bool = { _ in true }
        unary("sin", Foundation.sin, anywhere, Complex.sin)
        unary("cos", Foundation.cos, anywhere, Complex.cos)
        unary("tan", Foundation.tan, anywhere, Complex.tan)
        unary("asin", Foundation.asin, { abs($0) <= 1 }, Complex.asin)
        unary("acos", Foundation.acos, { abs($0) <= 1 }, Complex.acos)
        i.define("exp") { i, x in
            if let c = x.as(Compnum.self) { return i.heap.number(Complex.exp(Complex(c.real, c.imag))) }
            let n = try Check.number(x)
            if case .fix(0) = n { return Value(fixnum: 1) }
            return i.heap.flonum(Foundation.exp(n.doubleValue))
        }
        i.define("log", min: 1, max: 2) { i, args in
            if args[0].isObject(of: .compnum) || (Num(args[0])?.sign ?? 0) < 0
                || (args.optional(1).map { $0.isObject(of: .compnum) || (Num($0)?.sign ?? 0) < 0 } ?? false) {
                var l = Complex.log(try complexArgument(args[0], 1))
                if let b = args.optional(1) {
                    guard let q = l / Complex.log(try complexArgument(b, 2)) else { throw SchemeError(.divisionByZero, "division by zero") }
                    l = q
                }
                return i.heap.number(l)
            }
            let n = try Check.number(args[0], 1)
            if case .fix(1) = n, args.count == 1 { return Value(fixnum: 0) }
            let l = logOf(n)
            if let b = args.optional(1) { return i.heap.flonum(l / logOf(try Check.number(b, 2))) }
            return i.heap.flonum(l)
        }
        i.define("atan", min: 1, max: 2) { i, args in
            if args.count == 1, args[0].isObject(of: .compnum) {
                guard let z = Complex.atan(try complexArgument(args[0], 1)) else {
                    throw SchemeError(.range, "atan: undefined at ", irritants: [args[0]])
                }
                return i.heap.number(z)
            }
            let y = try Check.number(args[0], 1).doubleValue
            if let xv = args.optional(1) { return i.heap.flonum(Foundation.atan2(y, try Check.number(xv, 2).doubleValue)) }
            return i.heap.flonum(Foundation.atan(y))
        }
        i.define("sqrt") { i, x in
            if let c = x.as(Compnum.self) { return i.heap.number(Complex.sqrt(Complex(c.real, c.imag))) }
            let n = try Check.number(x)
            // Exact roots of exact squares stay exact (√-4 is exactly +2i).
            if n.sign >= 0, let r = n.exactSquareRoot { return i.heap.number(r) }
            if n.sign < 0, let r = Num.negate(n).exactSquareRoot { return i.heap.number(Complex(.fix(0), r)) }
            let d = n.doubleValue
            if d < 0 { return i.heap.number(Complex(.flo(0), .flo((-d).squareRoot()))) }
            return i.heap.flonum(d.squareRoot())
        }
        i.define("expt") { i, b, e in
            if b.isObject(of: .compnum) || e.isObject(of: .compnum) {
                let zb = try complexArgument(b, 1), ze = try complexArgument(e, 2)
                if zb.isExact, ze.isReal, case .fix(let k) = ze.re, abs(k) <= 1 << 16 {
                    // Exact powers of exact complex numbers stay exact.
                    var r = Complex(.fix(1), .fix(0)), p = zb, n = abs(k)
                    while n > 0 { if n & 1 == 1 { r = r * p }; p = p * p; n >>= 1 }
                    if k < 0 {
                        guard let inv = Complex(.fix(1), .fix(0)) / r else { throw SchemeError(.divisionByZero, "division by zero") }
                        r = inv
                    }
                    return i.heap.number(r)
                }
                return i.heap.number(Complex.expt(zb, ze))
            }
            let base = try Check.number(b, 1), ex = try Check.number(e, 2)
            // An exact power is as large as k times its base: it must fit
            // in memory before it is computed (one call, no safe point).
            func reservePower(_ base: Num, _ k: Int) throws {
                let bits = base.numerator.magnitude.bitWidth + base.denominator.bitWidth
                try i.heap.reserve(Heap.bytes(k, each: bits) / 8, for: "an exact power with exponent \(k)")
            }
            if case .fix(let k) = ex, base.isExact {
                if k >= 0 {
                    if k > 1 << 24 && !(base.isZero || base.numerator.magnitude.compare(1) == 0) {
                        throw SchemeError(.range, "expt: exponent too large for an exact result: ", irritants: [e])
                    }
                    try reservePower(base, k)
                    switch base {
                    case .rat(let p, let q):
                        return i.heap.number(Num.coprimeRational(p.power(k), q.power(k)) ?? .fix(0))
                    default: return i.heap.integer(base.bigValue.power(k))
                    }
                }
                if base.isZero { throw SchemeError(.divisionByZero, "division by zero") }
                let m = k == Int.min ? Int.max : -k
                try reservePower(base, m)
                return i.heap.number(Num.coprimeRational(base.denominator.power(m), base.numerator.power(m)) ?? .fix(0))
            }
            let bd = base.doubleValue, ed = ex.doubleValue
            if bd < 0 && !ex.isInteger && ed.isFinite {
                // A negative base to a non-integer power: the principal complex value.
                return i.heap.number(Complex.expt(Complex(base, .fix(0)), Complex(ex, .fix(0))))
            }
            return i.heap.flonum(Foundation.pow(bd, ed))
        }
    }

    /// Natural log, also of bignums beyond the double range.
    private static func logOf(_ n: Num) -> Double {
        if case .big(let b) = n, !b.doubleValue.isFinite {
            let shift = b.bitWidth - 60
            return Foundation.log(b.shiftedRight(shift).doubleValue) + Double(shift) * M_LN2
        }
        return Foundation.log(n.doubleValue)
    }

    private static func registerConversion(_ i: Interpreter) {
        let toExact: (Interpreter, Value) throws -> Value = { i, x in
            if x.isObject(of: .compnum) {
                guard let z = try complexArgument(x, 1).toExact else {
                    throw SchemeError(.range, "cannot convert to an exact number: ", irritants: [x])
                }
                return i.heap.number(z)
            }
            let n = try Check.number(x)
            guard let e = n.toExact else {
                throw SchemeError(.range, "cannot convert to an exact number: ", irritants: [x])
            }
            return i.heap.number(e)
        }
        let toInexact: (Interpreter, Value) throws -> Value = { i, x in
            if let c = x.as(Compnum.self) { return i.heap.number(Complex(c.real, c.imag).toInexact) }
            let n = try Check.number(x)
            return n.isExact ? i.heap.number(n.toInexact) : x
        }
        i.define("exact", toExact)
        i.define("inexact->exact", toExact)
        i.define("inexact", toInexact)
        i.define("exact->inexact", toInexact)
        i.define("number->string", min: 1, max: 2) { i, args in
            let z = try complexArgument(args[0], 1)
            var radix = 10
            if let r = args.optional(1) {
                radix = try Check.int(r, 2)
                guard [2, 8, 10, 16].contains(radix) else {
                    throw SchemeError(.range, "argument 2: radix must be 2, 8, 10 or 16, got ", irritants: [r])
                }
                if radix != 10, !z.isExact {
                    throw SchemeError(.range, "inexact numbers can only be written in radix 10")
                }
            }
            return i.makeString(NumberSyntax.format(z, radix: radix))
        }
        i.define("string->number", min: 1, max: 2) { i, args in
            let s = try Check.string(args[0], 1)
            var radix = 10
            if let r = args.optional(1) {
                radix = try Check.int(r, 2)
                guard [2, 8, 10, 16].contains(radix) else {
                    throw SchemeError(.range, "argument 2: radix must be 2, 8, 10 or 16, got ", irritants: [r])
                }
            }
            if radix == 10, !s.scalars.isWide, let n = NumberSyntax.parseSimpleDecimal(s.scalars.ascii) {
                return i.heap.number(n)
            }
            guard let z = NumberSyntax.parseComplex(s.string, radix: radix) else { return .false }
            return i.heap.number(z)
        }
    }

    /// `(scheme complex)`.
    private static func registerComplex(_ i: Interpreter) {
        i.define("make-rectangular") { i, re, im in
            i.heap.number(Complex(try Check.number(re, 1), try Check.number(im, 2)))
        }
        i.define("make-polar") { i, m, a in
            i.heap.number(Complex.polar(try Check.number(m, 1), try Check.number(a, 2)))
        }
        i.define("real-part") { i, x in i.heap.number(try complexArgument(x, 1).re) }
        i.define("imag-part") { i, x in i.heap.number(try complexArgument(x, 1).im) }
        i.define("magnitude") { i, x in i.heap.number(try complexArgument(x, 1).magnitude) }
        i.define("angle") { i, x in
            let z = try complexArgument(x, 1)
            if z.isReal && z.re.isExact && z.re.isZero { throw SchemeError(.range, "angle: undefined for exact zero") }
            return i.heap.number(z.angle)
        }
    }
}
