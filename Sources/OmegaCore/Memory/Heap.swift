import COmegaShims

/// Owns every heap object of one interpreter and collects the unreachable ones.
///
/// Design: pairs — most of what programs allocate — are cells of slabs the
/// heap manages itself (`PairSlabs`: 16 bytes a pair, a mark bit each, freed
/// cells reused). Other objects are ordinary Swift class instances; the heap
/// holds the one long-lived strong reference to each, and `Value`s point to
/// them without retaining. A collection marks everything reachable from the
/// roots (through each object's `trace`, and through the car and cdr of
/// pairs), drops the heap's reference to unmarked objects, which Swift then
/// frees, and links unmarked pair cells into the free lists. Values therefore
/// cost nothing to copy, and cycles are collected.
///
/// Collections happen only at *safe points* chosen by the VM (procedure
/// calls), never inside an allocation. Swift code that builds structures out
/// of several objects — natives, the reader, the compiler — can therefore hold
/// fresh values in locals without registering them, as long as it does not
/// run Scheme code in between. Host code that keeps values across evaluations
/// uses `SchemeHandle`, which registers a root.
public final class Heap {
    /// Every object, each held by one reference count the heap owns: taken
    /// over from the allocation (no retain of its own) and given back by
    /// the sweep (an explicit release), so that allocating costs no atomic
    /// reference-count traffic beyond the object's creation.
    /// (Unchecked exclusivity: the heap is one thread's, and the dynamic
    /// check cost two runtime calls per allocation.)
    @exclusivity(unchecked) private var objects: ContiguousArray<Unmanaged<HeapObject>> = []
    /// Pairs a program makes (car, cdr).
    @exclusivity(unchecked) private var pairs = PairSlabs(cellShift: 4)
    /// Pairs of program text (car, cdr, where it was written).
    @exclusivity(unchecked) private var locatedPairs = PairSlabs(cellShift: 5)
    private var epoch: UInt32 = 0
    /// Bytes allocated since the last collection (estimated).
    private(set) var allocatedSinceCollection = 0
    /// Collect when `allocatedSinceCollection` passes this.
    private(set) var threshold = 8 << 20
    /// Bytes found live by the last collection (estimated).
    public private(set) var liveBytes = 0
    /// Number of collections so far.
    public private(set) var collections = 0
    /// The most bytes (estimated) the heap may hold; beyond it allocations
    /// raise an `out of memory` error the program can catch.
    /// Never more than `addressSpaceBound`, whatever is asked for.
    public var limit = Heap.defaultLimit {
        didSet { limit = min(limit, Heap.addressSpaceBound) }
    }
    /// 1 GiB of Scheme data (estimated; the process uses about twice that),
    /// or less under `ulimit -v` (`addressSpaceBound`).
    public static let defaultLimit = min(1 << 30, addressSpaceBound)
    /// A third of the address space the process has left when that is
    /// limited (`ulimit -v`), else unbounded: a program then runs out with
    /// an `out of memory` error it can catch before the system refuses a
    /// slab or an array and the process has to stop.
    public static let addressSpaceBound: Int = {
        let left = Int(clamping: omega_address_space_left())
        return left > 0 ? max(4 << 20, left / 3) : Int.max
    }()

    /// Root providers: each reports the values it keeps alive.
    var rootProviders: [(inout Marker) -> Void] = []

    init() { objects.reserveCapacity(1 << 16) }

    /// The interpreter is gone: every object goes with it.
    deinit {
        for ref in objects { ref.release() }
        pairs.releaseAll()
        locatedPairs.releaseAll()
    }

    /// Takes ownership of a new object.
    @inline(__always) @discardableResult
    func register<T: HeapObject>(_ object: T) -> T {
        objects.append(Unmanaged.passRetained(object))
        let size = object.approximateSize
        allocatedSinceCollection &+= size
        // A few calls can make a few huge objects (a bignum squared again
        // and again) long before the VM's next safe point: check at the next call.
        if size >= Heap.largeObject { requestSafePoint() }
        return object
    }

    /// An object this large makes the next procedure call a safe point.
    static let largeObject = 1 << 16

    /// A new pair, owned by the heap (the VM's `cons`).
    @inline(__always)
    func pair(_ car: Value, _ cdr: Value) -> Value {
        guard let cell = pairs.allocate() else { systemOutOfMemory() }
        let values = cell.assumingMemoryBound(to: Value.self)
        values.initialize(to: car)
        values[1] = cdr
        allocatedSinceCollection &+= Pair.size
        return Value(pair: Pair(cell: values))
    }

    /// A new pair of program text, remembering where it was written.
    func locatedPair(_ car: Value, _ cdr: Value, location: SourceLocation) -> Value {
        guard let cell = locatedPairs.allocate() else { systemOutOfMemory() }
        let values = cell.assumingMemoryBound(to: Value.self)
        values.initialize(to: car)
        values[1] = cdr
        values[2] = Value(raw: location.packed)
        allocatedSinceCollection &+= 2 * Pair.size
        return Value(pair: Pair(cell: values))
    }

    /// The system refused memory for a slab: as Swift does when malloc
    /// fails for an object, stop. Programs cannot get here: `limit` keeps
    /// Scheme data to a third of the address space a `ulimit -v` leaves
    /// (`addressSpaceBound`), and without one Linux does not refuse 128 KiB.
    @inline(never) private func systemOutOfMemory() -> Never {
        fatalError("out of system memory for pairs")
    }

    /// A flonum: in the word when it can be (see `Value`), else a new
    /// object owned by the heap.
    @inline(__always)
    package func flonum(_ d: Double) -> Value {
        if let v = Value.inWordFlonum(d) { return v }
        let f = Flonum(d)
        objects.append(Unmanaged.passRetained(f))
        allocatedSinceCollection &+= f.approximateSize
        return Value(object: f)
    }

    /// Accounts for memory an existing object grew by (e.g. a string append).
    func grew(by bytes: Int) {
        allocatedSinceCollection &+= bytes
        if bytes >= Heap.largeObject { requestSafePoint() }
    }

    /// Whether the VM should collect at its next safe point: past the
    /// threshold, or when what was allocated may no longer fit under the
    /// limit. At least a sixteenth of the limit is allocated between two
    /// collections: a program that holds nearly all it may (after an
    /// out-of-memory error it caught) would otherwise collect at every
    /// procedure call and crawl.
    @inline(__always) var wantsCollection: Bool {
        forceCollection || allocatedSinceCollection > threshold
            || allocatedSinceCollection > max(limit &- liveBytes, limit >> 4)
    }
    /// Set after an out-of-memory error: what was live then may be garbage now.
    var forceCollection = false
    /// Asks the VM for a safe point at its next procedure call (set by the interpreter).
    var requestSafePoint: () -> Void = {}

    /// `count × each` bytes, or Int.max when that overflows.
    static func bytes(_ count: Int, each: Int) -> Int {
        let (n, overflow) = count.multipliedReportingOverflow(by: each)
        return overflow ? Int.max : n
    }

    /// Raises `out of memory` unless `bytes` more (for `what`, e.g. `make-vector of
    /// 10000000000 elements`) fit under the limit beside what the last
    /// collection found live. Called before allocations whose size a program chooses.
    func reserve(_ bytes: Int, for what: @autoclosure () -> String) throws {
        // After an out-of-memory error, what the last collection found live
        // may be garbage by now (the handler let go of it): judge this
        // allocation by the limit alone, and have the next safe point collect
        // and check what is really live.
        let stale = forceCollection || graceAfterError
        let room = limit &- (stale ? 0 : liveBytes)
        guard bytes >= 0, bytes <= room else {
            throw SchemeError.outOfMemory(what(), bytes: bytes, limit: limit)
        }
        if stale { forceCollection = true; requestSafePoint(); return }
        // It fits beside what was live; with what was allocated since, it may
        // not: collect and check at the next call (one allocation over, at most).
        if bytes > room &- allocatedSinceCollection { requestSafePoint() }
    }

    /// After a collection at a safe point: raises `out of memory` when what is
    /// live is over the limit (the program holds too much).
    func checkLimit() throws {
        if graceAfterError {
            // The handler of the last out-of-memory error runs while the data
            // that filled the heap is still reachable: let it, up to a quarter
            // more, until a collection finds the heap back under the limit.
            if liveBytes <= limit &- limit / 64 { graceAfterError = false; return }
            if liveBytes <= limit &+ limit / 4 { return }
        }
        // Nearly full counts as full: collecting for every small allocation
        // would make the program crawl instead of failing.
        if liveBytes > limit &- limit / 64 {
            graceAfterError = true
            throw SchemeError.outOfMemory("the data the program holds", bytes: liveBytes, limit: limit)
        }
    }
    /// An out-of-memory error was raised and the heap has not yet been seen back under the limit.
    private var graceAfterError = false

    /// Slabs of pair cells the heap holds (see `PairSlabs`).
    var pairSlabCount: Int { pairs.slabCount + locatedPairs.slabCount }

    /// The number of objects the heap owns, pairs included (pairs made since
    /// the last collection count until a collection finds them unreachable).
    public var objectCount: Int { objects.count + pairs.liveCells + locatedPairs.liveCells }

    /// Marks from all roots and frees everything unreachable.
    func collect(extraRoots: (inout Marker) -> Void = { _ in }) {
        epoch &+= 1
        if epoch == 0 { epoch = 1 }  // 0 is the "never marked" epoch of new objects
        var marker = Marker(epoch: epoch)
        for provider in rootProviders { provider(&marker) }
        extraRoots(&marker)
        marker.drain()
        let e = epoch
        var live = 0
        var kept = 0
        objects.withUnsafeMutableBufferPointer { all in
            for i in 0..<all.count {
                let ref = all[i]
                let size = ref._withUnsafeGuaranteedRef { $0.markEpoch == e ? $0.approximateSize : -1 }
                if size >= 0 {
                    live &+= size
                    all[kept] = ref
                    kept += 1
                } else {
                    ref.release()   // the heap's count: the object goes now
                }
            }
        }
        objects.removeLast(objects.count - kept)
        // Empty slabs kept for the allocations until the next collection.
        let spare = threshold >> PairSlabs.slabShift
        live &+= pairs.sweep(spareSlabs: spare)
        live &+= locatedPairs.sweep(spareSlabs: 2)
        liveBytes = live
        allocatedSinceCollection = 0
        forceCollection = false
        threshold = max(8 << 20, live)
        collections += 1
    }
}

/// The collector's marking state: a work list of reached, untraced objects.
public struct Marker {
    let epoch: UInt32
    /// Reached objects still to trace. Unretained: the heap owns them, and
    /// nothing is freed while marking.
    private var pending: [Unmanaged<HeapObject>] = []
    /// Reached pairs whose car and cdr are still to mark.
    private var pendingPairs: [Pair] = []

    init(epoch: UInt32) {
        self.epoch = epoch
        pending.reserveCapacity(1024)
        pendingPairs.reserveCapacity(1024)
    }

    /// Marks the object a value points to, if any.
    @inline(__always) public mutating func mark(_ v: Value) {
        if v.isPair {
            let p = v.pair
            if PairSlabs.mark(UInt(bitPattern: p.cell)) { pendingPairs.append(p) }
            return
        }
        guard v.isOtherObject else { return }
        let ref = Unmanaged<HeapObject>.fromOpaque(v.objectPointer)
        let e = epoch
        let fresh = ref._withUnsafeGuaranteedRef { obj -> Bool in
            if obj.markEpoch == e { return false }
            obj.markEpoch = e
            return true
        }
        if fresh { pending.append(ref) }
    }

    /// Marks a heap object reachable (its references are traced later).
    public mutating func mark(object: HeapObject) {
        if object.markEpoch != epoch {
            object.markEpoch = epoch
            pending.append(Unmanaged.passUnretained(object))
        }
    }

    /// Marks an object that refers to nothing (a symbol): no tracing, no
    /// reference counting.
    @inline(__always) mutating func mark<T: HeapObject>(leaf ref: Unmanaged<T>) {
        let e = epoch
        ref._withUnsafeGuaranteedRef { $0.markEpoch = e }
    }

    mutating func drain() {
        while true {
            if var p = pendingPairs.popLast() {
                // Down a list's spine without the work list: a long list
                // costs one entry, not one per pair.
                while true {
                    mark(p.car)
                    let next = p.cdr
                    guard next.isPair else { mark(next); break }
                    p = next.pair
                    guard PairSlabs.mark(UInt(bitPattern: p.cell)) else { break }
                }
            } else if let ref = pending.popLast() {
                ref._withUnsafeGuaranteedRef { $0.trace(&self) }
            } else {
                return
            }
        }
    }
}
