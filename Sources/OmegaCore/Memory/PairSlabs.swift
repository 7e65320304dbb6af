#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where pairs live: slabs of fixed-size cells outside Swift's object model,
/// marked in a bitmap per slab — no malloc, no reference count and no slot in
/// the heap's object list per pair. A run-time pair costs 16 bytes (its car
/// and cdr); a pair of program text 32 (car, cdr and where it was written).
///
/// A slab is `slabSize` bytes aligned to its size, so a cell's slab is its
/// address with the low bits cleared. The slab's first `headerSize` bytes hold
/// the cell size (as a shift, word 0) and, from byte 64, the mark bitmap (one
/// bit per cell-sized step of the slab, header included, so a bit's index is
/// the cell's offset shifted). Nothing moves: a pair's address is its
/// identity for as long as it lives.
///
/// Allocation takes the free list (unmarked cells of slabs that still hold
/// live pairs, linked through their first word, lowest address first), then
/// bumps through an empty slab; the sweep only links cells of slabs that are
/// partly live, so a program whose pairs all die young pays nothing per dead
/// pair.
struct PairSlabs {
    static let slabShift = 17
    /// 128 KiB: 8,124 plain cells or 4,062 located ones a slab.
    static let slabSize = 1 << slabShift
    static let bitmapOffset = 64
    /// Enough bits for 16-byte steps through the whole slab.
    private static let bitmapWords = (slabSize >> 4) >> 6
    /// The shift word and the bitmap, rounded to a 32-byte cell.
    static let headerSize = bitmapOffset + bitmapWords * 8

    /// 4 for plain pairs (16-byte cells), 5 for located ones (32 bytes).
    let cellShift: Int
    /// Slabs holding live pairs or being allocated from.
    private var slabs: [UnsafeMutableRawPointer] = []
    /// Slabs with no live pair, for bump allocation before asking the system.
    private var emptySlabs: [UnsafeMutableRawPointer] = []
    /// The first free cell; each free cell's first word points to the next.
    private var freeList: UnsafeMutableRawPointer?
    /// The next cell and the end of the slab being bumped through.
    private var bump: UnsafeMutableRawPointer?
    private var bumpEnd: UnsafeMutableRawPointer?
    /// Cells handed out and not yet found unreachable.
    private(set) var liveCells = 0
    /// Slabs taken from the system and not given back.
    var slabCount: Int { slabs.count + emptySlabs.count }

    init(cellShift: Int) { self.cellShift = cellShift }

    /// A cell for a new pair. Nil only when the system has no memory left.
    @inline(__always) mutating func allocate() -> UnsafeMutableRawPointer? {
        liveCells &+= 1
        if let cell = freeList {
            freeList = cell.load(as: UnsafeMutableRawPointer?.self)
            return cell
        }
        if let cell = bump, cell < bumpEnd.unsafelyUnwrapped {
            bump = cell + (1 << cellShift)
            return cell
        }
        return allocateFromAnotherSlab()
    }

    @inline(never) private mutating func allocateFromAnotherSlab() -> UnsafeMutableRawPointer? {
        let slab: UnsafeMutableRawPointer
        if let spare = emptySlabs.popLast() {
            slab = spare
        } else {
            var memory: UnsafeMutableRawPointer?
            guard posix_memalign(&memory, PairSlabs.slabSize, PairSlabs.slabSize) == 0, let fresh = memory else {
                liveCells &-= 1
                return nil
            }
            slab = fresh
            slab.storeBytes(of: UInt64(cellShift), as: UInt64.self)
            PairSlabs.bitmap(slab).update(repeating: 0, count: PairSlabs.bitmapWords)
        }
        slabs.append(slab)
        bump = slab + PairSlabs.headerSize + (1 << cellShift)
        bumpEnd = slab + PairSlabs.slabSize
        return slab + PairSlabs.headerSize
    }

    private static func bitmap(_ slab: UnsafeMutableRawPointer) -> UnsafeMutablePointer<UInt64> {
        (slab + bitmapOffset).assumingMemoryBound(to: UInt64.self)
    }

    /// Sets the mark bit of the cell at `address`; false when it was already set.
    @inline(__always) static func mark(_ address: UInt) -> Bool {
        let base = address & ~UInt(slabSize - 1)
        guard let header = UnsafeMutablePointer<UInt64>(bitPattern: base) else { return false }
        let index = Int(address - base) >> Int(header.pointee)
        let word = UnsafeMutableRawPointer(header) + bitmapOffset + (index >> 6) << 3
        let bit: UInt64 = 1 << UInt64(index & 63)
        let bits = word.load(as: UInt64.self)
        if bits & bit != 0 { return false }
        word.storeBytes(of: bits | bit, as: UInt64.self)
        return true
    }

    /// Whether the cell at `address` has the located (32-byte) layout.
    @inline(__always) static func isLocated(_ address: UInt) -> Bool {
        let base = address & ~UInt(slabSize - 1)
        return UnsafePointer<UInt64>(bitPattern: base)?.pointee == 5
    }

    /// After marking: unmarked cells of partly live slabs become the free
    /// list, slabs with nothing live become empty slabs (beyond `spareSlabs`
    /// of them, given back to the system: a program that churns through
    /// short-lived pairs would otherwise give back and fault in the same
    /// memory at every collection), and marks are cleared. Returns the bytes
    /// of the cells still live.
    mutating func sweep(spareSlabs: Int) -> Int {
        freeList = nil
        bump = nil
        bumpEnd = nil
        liveCells = 0
        var kept: [UnsafeMutableRawPointer] = []
        kept.reserveCapacity(slabs.count)
        // From the last slab to the first, so the free list starts at the lowest.
        for slab in slabs.reversed() {
            let marks = PairSlabs.bitmap(slab)
            var live = 0
            for i in 0..<PairSlabs.bitmapWords { live &+= marks[i].nonzeroBitCount }
            if live == 0 {
                if emptySlabs.count < spareSlabs { emptySlabs.append(slab) } else { free(slab) }
                continue
            }
            liveCells &+= live
            threadFreeCells(of: slab)
            marks.update(repeating: 0, count: PairSlabs.bitmapWords)
            kept.append(slab)
        }
        slabs = kept.reversed()
        return liveCells << cellShift
    }

    /// Links every unmarked cell of `slab` into the free list, lowest address
    /// first, a bitmap word at a time (a word of live pairs is one test).
    private mutating func threadFreeCells(of slab: UnsafeMutableRawPointer) {
        let marks = PairSlabs.bitmap(slab)
        let firstCell = PairSlabs.headerSize >> cellShift
        let cells = PairSlabs.slabSize >> cellShift
        var word = (cells - 1) >> 6
        while word >= 0 {
            var unmarked = ~marks[word]
            // Bits before the first cell (the header) are not cells.
            let low = word << 6
            if low < firstCell { unmarked &= firstCell - low >= 64 ? 0 : ~UInt64(0) << UInt64(firstCell - low) }
            while unmarked != 0 {
                let bit = 63 - unmarked.leadingZeroBitCount
                unmarked &= ~(UInt64(1) << UInt64(bit))
                let cell = slab + ((low + bit) << cellShift)
                cell.storeBytes(of: freeList, as: UnsafeMutableRawPointer?.self)
                freeList = cell
            }
            word -= 1
        }
    }

    /// Gives every slab back (the interpreter is gone).
    mutating func releaseAll() {
        for slab in slabs + emptySlabs { free(slab) }
        slabs = []
        emptySlabs = []
        freeList = nil
        bump = nil
        bumpEnd = nil
        liveCells = 0
    }
}
