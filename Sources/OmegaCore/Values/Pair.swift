/// A cons cell: two values and nothing else (40 bytes with the object
/// header). Pairs the reader and the expander make for code are
/// `LocatedPair`s, which also remember where they were written.
public class Pair: HeapObject {
    @exclusivity(unchecked) package final var car: Value
    @exclusivity(unchecked) package final var cdr: Value

    init(_ car: Value, _ cdr: Value) {
        self.car = car
        self.cdr = cdr
        super.init(kind: .pair)
    }

    /// Where the reader found the list this pair starts, so that the
    /// compiler can report errors at the right line and column; `.none` for
    /// pairs made at run time.
    final var location: SourceLocation {
        (self as? LocatedPair)?.writtenAt ?? .none
    }

    override final func trace(_ marker: inout Marker) {
        marker.mark(car)
        marker.mark(cdr)
    }
    override var approximateSize: Int { Pair.size }
    /// What a pair costs the heap (estimated), for natives that reserve room before making lists.
    static let size = 48
}

/// A pair of program text: the reader's, and the expander's where it
/// rebuilds code. The location costs a word that run-time pairs do without.
final class LocatedPair: Pair {
    let writtenAt: SourceLocation

    init(_ car: Value, _ cdr: Value, location: SourceLocation) {
        writtenAt = location
        super.init(car, cdr)
    }
}
