/// A top-level environment: the global variables and macros one body of
/// code is compiled against.
///
/// An interpreter has two. The *system* environment holds the built-in
/// procedures and everything the standard library (stdlib/) defines, and
/// the library's code is compiled against it. The *user* environment —
/// the one programs, the REPL, `eval` and `load` see — starts as a copy of
/// it: every bound variable gets a cell of its own with the same value.
/// So a program that redefines `car`, `length` or `list-tail` changes its
/// own binding and not the one `guard` or `map` were written against
/// (R7RS: a program's definitions do not change the libraries it imports).
/// Names the library refers to but does not define (hooks a program is
/// meant to supply) stay shared.
final class GlobalEnvironment {
    let name: String
    private(set) var cells: [ObjectIdentifier: GlobalCell] = [:]
    /// Names whose cell a definition here may change in place: cells made
    /// here, and the shared cells of names nothing had defined. An imported
    /// binding is not among them — defining its name makes a new cell.
    private var owned = Set<ObjectIdentifier>()
    /// Macros defined at the top level by define-syntax.
    var macros: [ObjectIdentifier: Macro] = [:]
    private unowned let heap: Heap

    init(name: String, heap: Heap) {
        self.name = name
        self.heap = heap
    }

    /// The cell of a global variable, created unbound if new.
    func cell(for name: Symbol) -> GlobalCell {
        let id = ObjectIdentifier(name)
        if let c = cells[id] { return c }
        let c = heap.register(GlobalCell(name: name))
        cells[id] = c
        owned.insert(id)
        return c
    }

    /// The cell a top-level `define` of `name` sets: a new one when the
    /// name is bound to an imported cell (the import is shadowed, not changed).
    func definitionCell(for name: Symbol) -> GlobalCell {
        let id = ObjectIdentifier(name)
        if let c = cells[id], owned.contains(id) { return c }
        let c = heap.register(GlobalCell(name: name))
        cells[id] = c
        owned.insert(id)
        return c
    }

    /// Makes `name` here mean another environment's variable (an import).
    func share(_ cell: GlobalCell, as name: Symbol) {
        let id = ObjectIdentifier(name)
        cells[id] = cell
        owned.remove(id)
        macros[id] = nil
    }

    /// A copy whose bound variables have cells of their own (see above).
    func derived(name: String) -> GlobalEnvironment {
        let env = GlobalEnvironment(name: name, heap: heap)
        env.cells.reserveCapacity(cells.count)
        for (id, cell) in cells {
            if cell.value.raw == Value.unbound.raw {
                env.cells[id] = cell
            } else {
                let copy = heap.register(GlobalCell(name: cell.name))
                copy.value = cell.value
                copy.integrable = cell.integrable
                env.cells[id] = copy
            }
        }
        env.macros = macros
        env.owned = Set(env.cells.keys)
        return env
    }

    func trace(_ marker: inout Marker) {
        for cell in cells.values { marker.mark(object: cell) }
        for m in macros.values { m.trace(&marker) }
    }
}
