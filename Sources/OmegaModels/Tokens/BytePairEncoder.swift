import OmegaCore
/// Byte-pair merging of one piece, with tiktoken's rule: repeatedly merge the
/// adjacent pair whose concatenation has the lowest rank, the leftmost one
/// when ranks tie, until no adjacent pair is a token.
///
/// Short pieces (nearly all of them) use tiktoken's own array algorithm, which
/// is quadratic but fastest for a few dozen bytes. Long pieces — 100 KB of one
/// letter is a single piece — use a heap over a linked list of parts, which
/// makes the same merges in the same order in O(n log n).
struct BytePairEncoder {
    let ranks: RankTable
    private var parts: [(start: Int, rank: UInt32)] = []

    /// Pieces longer than this use the heap.
    static let heapThreshold = 128

    init(ranks: RankTable) {
        self.ranks = ranks
        parts.reserveCapacity(Self.heapThreshold + 2)
    }

    /// Appends the tokens of the `n` bytes at `p` to `out`.
    mutating func encode(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int]) {
        if let r = ranks.rank(p, n) {
            out.append(Int(r))
        } else if n > Self.heapThreshold {
            encodeLong(p, n, into: &out)
        } else {
            encodeShort(p, n, into: &out)
        }
    }

    private mutating func encodeShort(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int]) {
        let none = UInt32.max
        parts.removeAll(keepingCapacity: true)
        for i in 0..<(n - 1) { parts.append((i, ranks.rank(p + i, 2) ?? none)) }
        parts.append((n - 1, none))
        parts.append((n, none))

        // The rank of part i joined with part i + 1, once part i + 1 and i + 2 merge.
        func rank(after i: Int) -> UInt32 {
            guard i + 3 < parts.count else { return none }
            let start = parts[i].start
            return ranks.rank(p + start, parts[i + 3].start - start) ?? none
        }
        while true {
            var best = none, at = -1
            for i in 0..<(parts.count - 1) where parts[i].rank < best {
                best = parts[i].rank
                at = i
            }
            if best == none { break }
            if at > 0 { parts[at - 1].rank = rank(after: at - 1) }
            parts[at].rank = rank(after: at)
            parts.remove(at: at + 1)
        }
        for i in 0..<(parts.count - 1) {
            let start = parts[i].start
            out.append(Int(ranks.rank(p + start, parts[i + 1].start - start) ?? 0))
        }
    }

    private func encodeLong(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int]) {
        let none = UInt32.max
        // Part k covers bytes k ..< next[k]; a part that was merged away is dead.
        var next = Array(1...n)
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var pairRank = [UInt32](repeating: none, count: n)
        var heap = MinHeap()

        func rankOfPair(_ k: Int) -> UInt32 {
            let m = next[k]
            guard m < n else { return none }
            return ranks.rank(p + k, next[m] - k) ?? none
        }
        for k in 0..<(n - 1) {
            pairRank[k] = rankOfPair(k)
            if pairRank[k] != none { heap.push(UInt64(pairRank[k]) << 32 | UInt64(k)) }
        }
        while let top = heap.pop() {
            let r = UInt32(top >> 32), k = Int(top & 0xFFFF_FFFF)
            guard alive[k], pairRank[k] == r else { continue }   // stale entry
            let m = next[k]
            next[k] = next[m]
            if next[m] < n { prev[next[m]] = k }
            alive[m] = false
            pairRank[k] = rankOfPair(k)
            if pairRank[k] != none { heap.push(UInt64(pairRank[k]) << 32 | UInt64(k)) }
            let before = prev[k]
            if before >= 0 {
                pairRank[before] = rankOfPair(before)
                if pairRank[before] != none { heap.push(UInt64(pairRank[before]) << 32 | UInt64(before)) }
            }
        }
        var k = 0
        while k < n {
            out.append(Int(ranks.rank(p + k, next[k] - k) ?? 0))
            k = next[k]
        }
    }
}

/// A binary min-heap of 64-bit keys (rank in the high half, position in the low).
private struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ x: UInt64) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent] <= items[i] { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < items.count && items[l] < items[smallest] { smallest = l }
                if r < items.count && items[r] < items[smallest] { smallest = r }
                if smallest == i { break }
                items.swapAt(i, smallest)
                i = smallest
            }
        }
        return top
    }
}
