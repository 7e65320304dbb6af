/// A symbol. Interned symbols are unique per name within an interpreter, so
/// `eq?` on symbols is pointer equality.
public final class Symbol: HeapObject {
    /// The symbol's name.
    public let name: String
    /// False for symbols made by `gensym`/renaming, which no name reaches.
    let isInterned: Bool

    init(name: String, interned: Bool) {
        self.name = name
        self.isInterned = interned
        super.init(kind: .symbol)
    }
    override var approximateSize: Int { 48 + name.utf8.count }
}

/// The interpreter's interned symbols. Symbols are never collected: the table
/// is a GC root, which keeps `eq?`-identity stable for every name ever read.
final class SymbolTable {
    private var table: [String: Symbol] = [:]
    /// The same symbols, for the collector: marking them walks this array
    /// without the reference counting that iterating the dictionary costs
    /// (a program that interns 200,000 names marks them all at every collection).
    private var interned: ContiguousArray<Unmanaged<Symbol>> = []
    private var gensymCounter = 0
    private let heap: Heap

    /// Room for the names the libraries define, so a start does not rehash.
    init(heap: Heap) {
        self.heap = heap
        table.reserveCapacity(2048)
        interned.reserveCapacity(2048)
    }

    func intern(_ name: String) -> Symbol {
        if let s = table[name] { return s }
        let s = heap.register(Symbol(name: name, interned: true))
        table[name] = s
        interned.append(Unmanaged.passUnretained(s))
        return s
    }

    /// A fresh uninterned symbol whose printed name starts with `prefix`.
    func gensym(_ prefix: String) -> Symbol {
        gensymCounter += 1
        return heap.register(Symbol(name: "\(prefix)\(gensymCounter)", interned: false))
    }

    /// A fresh uninterned symbol printed as `name` (a top-level name a
    /// macro introduced: it prints as written, but no program text reaches it).
    func uninterned(_ name: String) -> Symbol {
        heap.register(Symbol(name: name, interned: false))
    }

    func trace(_ marker: inout Marker) {
        for s in interned { marker.mark(leaf: s) }
    }
}
