/// A cons cell. `location` remembers where the reader found it, so the
/// compiler can report errors at the right line and column.
public final class Pair: HeapObject {
    @exclusivity(unchecked) package var car: Value
    @exclusivity(unchecked) package var cdr: Value
    var location: SourceLocation

    init(_ car: Value, _ cdr: Value, location: SourceLocation = .none) {
        self.car = car
        self.cdr = cdr
        self.location = location
        super.init(kind: .pair)
    }

    override func trace(_ marker: inout Marker) {
        marker.mark(car)
        marker.mark(cdr)
    }
    override var approximateSize: Int { Pair.size }
    /// What a pair costs the heap (estimated), for natives that reserve room before making lists.
    static let size = 48
}
