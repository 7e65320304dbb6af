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
    ///
    /// Trees are compared by a plain walk. A walk that goes on for long is
    /// either circular or shares structure (a DAG whose unfolding is
    /// exponential), so after `plainWalkSteps` the comparison starts over
    /// remembering which pairs and vectors it has already taken to be equal
    /// (union–find over their identities, as Adams and Dybvig's algorithm
    /// does): every node is then expanded at most once per merge, so the
    /// walk ends, and circular structures that unfold alike are equal.
    static func equal(_ a: Value, _ b: Value) -> Bool {
        var plainWalk: EquivalenceClasses? = nil
        if let plain = walk(a, b, classes: &plainWalk) { return plain }
        var classes: EquivalenceClasses? = EquivalenceClasses()
        return walk(a, b, classes: &classes) ?? false
    }

    private static let plainWalkSteps = 200_000

    /// The comparison, or nil when a plain walk (`classes` nil) ran out of steps.
    private static func walk(_ a: Value, _ b: Value, classes: inout EquivalenceClasses?) -> Bool? {
        var work: [(Value, Value)] = [(a, b)]
        var steps = 0
        while let (x, y) = work.popLast() {
            if eqv(x, y) { continue }
            if classes != nil {
                // Compound values already merged are taken as equal: a
                // difference below them shows up on the path that merged them.
                if (x.isPair && y.isPair) || (x.kind == .vector && y.kind == .vector),
                   classes?.merge(x.raw, y.raw) == false { continue }
            } else {
                steps += 1
                if steps > plainWalkSteps { return nil }
            }
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

/// Union–find over value identities (the words of pairs and vectors, which
/// do not move while `equal?` runs).
private struct EquivalenceClasses {
    private var parent: [UInt64: UInt64] = [:]

    private mutating func root(_ k: UInt64) -> UInt64 {
        var r = k
        while let p = parent[r] { r = p }
        var n = k
        while let p = parent[n], p != r { parent[n] = r; n = p }
        return r
    }

    /// Puts `x` and `y` in one class; false when they already were.
    mutating func merge(_ x: UInt64, _ y: UInt64) -> Bool {
        let rx = root(x), ry = root(y)
        if rx == ry { return false }
        parent[rx] = ry
        return true
    }
}
