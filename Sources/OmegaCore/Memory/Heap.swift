/// Owns every heap object of one interpreter and collects the unreachable ones.
///
/// Design: objects are ordinary Swift class instances; the heap holds the one
/// long-lived strong reference to each, and `Value`s point to them without
/// retaining. A collection marks everything reachable from the roots (through
/// each object's `trace`) and drops the heap's reference to the rest, which
/// Swift then frees. Values therefore cost nothing to copy, and cycles are
/// collected.
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
    public var limit = Heap.defaultLimit
    /// 1 GiB of Scheme data (estimated; the process uses about twice that).
    public static let defaultLimit = 1 << 30

    /// Root providers: each reports the values it keeps alive.
    var rootProviders: [(inout Marker) -> Void] = []

    init() { objects.reserveCapacity(1 << 16) }

    /// The interpreter is gone: every object goes with it.
    deinit { for ref in objects { ref.release() } }

    /// Takes ownership of a new object.
    @inline(__always) @discardableResult
    func register<T: HeapObject>(_ object: T) -> T {
        objects.append(Unmanaged.passRetained(object))
        allocatedSinceCollection &+= object.approximateSize
        return object
    }

    /// A new pair, owned by the heap (the VM's `cons`).
    @inline(__always)
    func pair(_ car: Value, _ cdr: Value) -> Value {
        let p = Pair(car, cdr)
        objects.append(Unmanaged.passRetained(p))
        allocatedSinceCollection &+= Pair.size
        return Value(pair: p)
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
    func grew(by bytes: Int) { allocatedSinceCollection &+= bytes }

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
        let room = limit &- liveBytes
        guard bytes >= 0, bytes <= room else {
            throw SchemeError.outOfMemory(what(), bytes: bytes, limit: limit)
        }
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

    /// The number of objects the heap owns.
    public var objectCount: Int { objects.count }

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

    init(epoch: UInt32) { self.epoch = epoch; pending.reserveCapacity(1024) }

    /// Marks the object a value points to, if any.
    @inline(__always) public mutating func mark(_ v: Value) {
        guard v.isHeapObject else { return }
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

    mutating func drain() {
        while let ref = pending.popLast() {
            ref._withUnsafeGuaranteedRef { $0.trace(&self) }
        }
    }
}
