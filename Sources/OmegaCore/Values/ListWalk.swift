/// Walks the pairs of a list and notices a circular one: a second pointer
/// follows at half speed, and the two meet only on a cycle. Every native
/// loop over a list it did not make itself (a primitive's argument, code
/// the reader or `eval` handed the compiler) walks with one, so that no
/// list — `#0=(a . #0#)` included — can keep it going for ever.
package struct ListWalk {
    /// Where the walk is: the next pair, or after the last one the list's
    /// tail (`'()` for a proper list).
    package private(set) var rest: Value
    private var slow: Value
    private var count = 0
    /// Whether the list turned out to be circular (the walk has stopped).
    package private(set) var isCircular = false

    package init(_ list: Value) {
        rest = list
        slow = list
    }

    /// The next pair, or nil after the last one or once a cycle is found
    /// (a pair of the cycle may be returned twice before that).
    @inline(__always) package mutating func next() -> Value? {
        guard rest.isPair, !isCircular else { return nil }
        let p = rest
        rest = p.cdr
        count &+= 1
        if count & 1 == 0 {
            slow = slow.cdr
            if rest.raw == slow.raw && rest.isPair { isCircular = true }
        }
        return p
    }

    /// Whether the walk ended on `'()`: the list was proper.
    package var endedProperly: Bool { !isCircular && rest.isNull }
}
