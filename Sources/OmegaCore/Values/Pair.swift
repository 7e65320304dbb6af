/// A cons cell: a view of two values in a cell of the heap's pair slabs
/// (see `PairSlabs`), not a Swift object. Pairs the reader and the expander
/// make for code have a third word: where they were written.
public struct Pair {
    /// The cell: car, cdr and, for pairs of program text, the location.
    let cell: UnsafeMutablePointer<Value>

    @inline(__always) init(cell: UnsafeMutablePointer<Value>) { self.cell = cell }

    /// The first value.
    @inline(__always) package var car: Value {
        get { cell.pointee }
        nonmutating set { cell.pointee = newValue }
    }
    /// The second value.
    @inline(__always) package var cdr: Value {
        get { cell[1] }
        nonmutating set { cell[1] = newValue }
    }

    /// Where the reader found the list this pair starts, so that the
    /// compiler can report errors at the right line and column; `.none` for
    /// pairs made at run time.
    var location: SourceLocation {
        guard PairSlabs.isLocated(UInt(bitPattern: cell)) else { return .none }
        return SourceLocation(packed: cell[2].raw)
    }

    /// What a pair costs the heap, for natives that reserve room before making lists.
    static let size = 16
}
