/// eq?, eqv?, equal? (R7RS 6.1).
enum EqualityLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        i.define("eq?") { _, a, b in Value(a.raw == b.raw) }
        i.define("eqv?") { _, a, b in Value(Equality.eqv(a, b)) }
        i.define("equal?") { _, a, b in Value(Equality.equal(a, b)) }
    }
}

enum Equality {
    /// eqv?: identity, except that numbers and characters compare by value.
    static func eqv(_ a: Value, _ b: Value) -> Bool {
        if a.raw == b.raw { return true }
        guard let ka = a.kind, let kb = b.kind, ka == kb else { return false }
        switch ka {
        case .flonum:
            let x = a.unsafeObject(Flonum.self).value, y = b.unsafeObject(Flonum.self).value
            return x.bitPattern == y.bitPattern || (x == y && x != 0)
        case .bignum:
            return a.unsafeObject(Bignum.self).value == b.unsafeObject(Bignum.self).value
        case .ratnum:
            let x = a.unsafeObject(Ratnum.self), y = b.unsafeObject(Ratnum.self)
            return x.numerator == y.numerator && x.denominator == y.denominator
        case .compnum:
            let x = a.unsafeObject(Compnum.self), y = b.unsafeObject(Compnum.self)
            return eqv(x.real, y.real) && eqv(x.imag, y.imag)
        default:
            return false
        }
    }

    /// eqv? of two real parts of complex numbers.
    private static func eqv(_ a: Num, _ b: Num) -> Bool {
        switch (a, b) {
        case (.flo(let x), .flo(let y)): return x.bitPattern == y.bitPattern || (x == y && x != 0)
        case (.flo, _), (_, .flo): return false
        default: return Num.compare(a, b) == 0
        }
    }

    /// equal?: structural equality of pairs, strings, vectors and
    /// bytevectors; eqv? otherwise. Iterative, so long lists and deep
    /// nesting cannot overflow the stack.
    static func equal(_ a: Value, _ b: Value) -> Bool {
        var work: [(Value, Value)] = [(a, b)]
        var steps = 0
        while let (x, y) = work.popLast() {
            steps += 1
            if steps > 100_000_000 { return false }  // circular structure
            if eqv(x, y) { continue }
            if x.isPair {
                guard y.isPair else { return false }
                work.append((x.cdr, y.cdr))
                work.append((x.car, y.car))
                continue
            }
            guard let kx = x.kind, let ky = y.kind, kx == ky else { return false }
            switch kx {
            case .string:
                if x.unsafeObject(SchemeString.self).scalars != y.unsafeObject(SchemeString.self).scalars { return false }
            case .vector:
                let vx = x.unsafeObject(SchemeVector.self).items, vy = y.unsafeObject(SchemeVector.self).items
                guard vx.count == vy.count else { return false }
                for k in stride(from: vx.count - 1, through: 0, by: -1) { work.append((vx[k], vy[k])) }
            case .bytevector:
                if x.unsafeObject(Bytevector.self).bytes != y.unsafeObject(Bytevector.self).bytes { return false }
            default:
                return false
            }
        }
        return true
    }
}
