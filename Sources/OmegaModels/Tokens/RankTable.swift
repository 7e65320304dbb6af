import Foundation
import OmegaCore

/// The mergeable ranks of one encoding: token bytes ↔ rank, built for the
/// encoder's inner loop.
///
/// Token bytes live back to back in one arena, indexed by rank. The lookup
/// side is an open-addressing hash table of 64-bit slots (32 bits of hash tag,
/// 32 bits of rank + 1), so a probe compares the tag before touching the
/// arena. Every lookup hashes at most 128 bytes (the longest token), and no
/// lookup allocates.
final class RankTable: @unchecked Sendable {
    /// All token bytes, in rank order.
    let arena: [UInt8]
    /// `offsets[r] ..< offsets[r + 1]` are rank r's bytes (empty for an unused rank).
    let offsets: [UInt32]
    /// The hash table: (hash >> 32) << 32 | (rank + 1), 0 for an empty slot.
    private(set) var slots: [UInt64]
    private let mask: Int
    /// The rank of each single byte (every byte is a token in these encodings).
    private(set) var byteRanks = [UInt32](repeating: UInt32.max, count: 256)

    var count: Int { offsets.count - 1 }

    /// Rebuilds a table from a binary cache (see `RankCache`), without
    /// rehashing: `slots` must be what `slots` of an equal table held.
    init(arena: [UInt8], offsets: [UInt32], slots: [UInt64]) throws {
        guard slots.count > 0, slots.count & (slots.count - 1) == 0, slots.count >= offsets.count else {
            throw TokenizerError.damagedRankFile("cache has a malformed hash table")
        }
        self.arena = arena
        self.offsets = offsets
        self.slots = slots
        mask = slots.count - 1
        for r in 0..<(offsets.count - 1) where offsets[r + 1] == offsets[r] + 1 {
            byteRanks[Int(arena[Int(offsets[r])])] = UInt32(r)
        }
    }

    /// Builds the table from the arena and offsets; fails on a duplicate token.
    init(arena: [UInt8], offsets: [UInt32]) throws {
        self.arena = arena
        self.offsets = offsets
        let n = offsets.count - 1
        var capacity = 1
        while capacity < n * 2 { capacity <<= 1 }
        mask = capacity - 1
        slots = [UInt64](repeating: 0, count: capacity)
        try arena.withUnsafeBufferPointer { a in
            for r in 0..<n {
                let start = Int(offsets[r]), length = Int(offsets[r + 1]) - start
                if length == 0 { continue }
                let p = a.baseAddress! + start
                if length == 1 { byteRanks[Int(p[0])] = UInt32(r) }
                let h = RankTable.hash(p, length)
                var i = Int(truncatingIfNeeded: h) & mask
                while slots[i] != 0 {
                    let other = Int(slots[i] & 0xFFFF_FFFF) - 1
                    if slots[i] >> 32 == h >> 32, RankTable.equal(a, other, offsets, p, length) {
                        throw TokenizerError.damagedRankFile("token of rank \(r) repeats rank \(other)")
                    }
                    i = (i + 1) & mask
                }
                slots[i] = (h & 0xFFFF_FFFF_0000_0000) | UInt64(r + 1)
            }
        }
    }

    private static func equal(_ a: UnsafeBufferPointer<UInt8>, _ rank: Int, _ offsets: [UInt32],
                              _ p: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        let start = Int(offsets[rank])
        guard Int(offsets[rank + 1]) - start == length else { return false }
        return memcmp(a.baseAddress! + start, p, length) == 0
    }

    /// A fast 64-bit hash of `length` bytes: 8 bytes per multiply.
    @inline(__always) static func hash(_ p: UnsafePointer<UInt8>, _ length: Int) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(length &+ 1)
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 8 <= length {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        if i < length {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < length { tail |= UInt64(p[i]) << shift; shift += 8; i += 1 }
            h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        }
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 32)
    }

    /// The rank of the `length` bytes at `p`, or nil when they are not a token.
    @inline(__always) func rank(_ p: UnsafePointer<UInt8>, _ length: Int) -> UInt32? {
        if length == 1 {
            let r = byteRanks[Int(p[0])]
            return r == UInt32.max ? nil : r
        }
        let h = RankTable.hash(p, length)
        let tag = h >> 32
        return slots.withUnsafeBufferPointer { s in
            arena.withUnsafeBufferPointer { a in
                offsets.withUnsafeBufferPointer { o in
                    var i = Int(truncatingIfNeeded: h) & mask
                    while true {
                        let slot = s[i]
                        if slot == 0 { return nil }
                        if slot >> 32 == tag {
                            let r = Int(slot & 0xFFFF_FFFF) - 1
                            let start = Int(o[r])
                            if Int(o[r + 1]) - start == length, memcmp(a.baseAddress! + start, p, length) == 0 {
                                return UInt32(r)
                            }
                        }
                        i = (i + 1) & mask
                    }
                }
            }
        }
    }

    /// The bytes of `rank`, or nil for a rank the table does not have.
    func bytes(of rank: Int) -> ArraySlice<UInt8>? {
        guard rank >= 0, rank < count else { return nil }
        let start = Int(offsets[rank]), end = Int(offsets[rank + 1])
        return end > start ? arena[start..<end] : nil
    }
}
