import Foundation
import OmegaCore

/// A compact binary copy of a parsed rank table, so that a process's first
/// count does not pay for gunzip, SHA-256, base64 and hashing again.
///
/// The cache remembers which file it was made from (path, size, modification
/// time) and that file's verified SHA-256. It is used only while that file is
/// still the first one the search finds, unchanged; otherwise the file is
/// read and verified again and the cache rewritten. A damaged cache is
/// ignored, never trusted: its payload carries a checksum and every offset
/// and slot is range-checked.
///
/// Layout (little-endian): magic `OMEGARK1`, then UInt64 fields
/// [source size, source mtime in ms, path length, arena bytes, offsets count,
/// slots count, payload checksum], the source path, the 64-byte SHA-256 hex,
/// then the arena, the offsets (UInt32) and the slots (UInt64).
enum RankCache {
    static let magic = Array("OMEGARK1".utf8)

    /// The cache file for `spec` in `directory`.
    static func url(for spec: EncodingSpec, in directory: URL) -> URL {
        directory.appendingPathComponent("\(spec.name).ranks.bin")
    }

    /// What identifies a source file's contents without reading it.
    struct SourceStamp: Equatable {
        var path: String
        var size: UInt64
        var modifiedMs: UInt64

        init?(_ url: URL) {
            guard let a = try? FileManager.default.attributesOfItem(atPath: url.path),
                  let size = (a[.size] as? NSNumber)?.uint64Value,
                  let date = a[.modificationDate] as? Date else { return nil }
            path = url.path
            self.size = size
            modifiedMs = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        }
    }

    /// The cached table for `stamp`, or nil when there is none that matches.
    static func load(_ cacheURL: URL, for stamp: SourceStamp, spec: EncodingSpec) -> RankTable? {
        guard let data = try? Data(contentsOf: cacheURL, options: .alwaysMapped), data.count > 64 else { return nil }
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> RankTable? in
            var at = 0
            func read(_ n: Int) -> UnsafeRawBufferPointer? {
                guard n >= 0, at + n <= raw.count else { return nil }
                defer { at += n }
                return UnsafeRawBufferPointer(rebasing: raw[at..<(at + n)])
            }
            func u64() -> UInt64? { read(8).map { $0.loadUnaligned(as: UInt64.self).littleEndian } }
            guard let m = read(8), Array(m) == magic,
                  let size = u64(), let mtime = u64(), let pathLength = u64(),
                  let arenaCount = u64(), let offsetCount = u64(), let slotCount = u64(), let checksum = u64(),
                  pathLength < 1 << 16, arenaCount < 1 << 30, offsetCount < 1 << 26, slotCount < 1 << 28,
                  let path = read(Int(pathLength)), let sha = read(64),
                  size == stamp.size, mtime == stamp.modifiedMs,
                  String(decoding: path, as: UTF8.self) == stamp.path,
                  String(decoding: sha, as: UTF8.self) == spec.sha256 else { return nil }
            let payloadStart = at
            guard let arenaBytes = read(Int(arenaCount)),
                  let offsetBytes = read(Int(offsetCount) * 4),
                  let slotBytes = read(Int(slotCount) * 8), at == raw.count else { return nil }
            let payload = UnsafeRawBufferPointer(rebasing: raw[payloadStart..<at])
            guard RankCache.checksum(payload) == checksum else { return nil }

            let arena = [UInt8](arenaBytes)
            var offsets = [UInt32](repeating: 0, count: Int(offsetCount))
            offsets.withUnsafeMutableBytes { $0.copyMemory(from: offsetBytes) }
            var slots = [UInt64](repeating: 0, count: Int(slotCount))
            slots.withUnsafeMutableBytes { $0.copyMemory(from: slotBytes) }
            // Range checks: a cache that passes them cannot make a lookup read
            // outside its arrays.
            guard offsets.count >= 2, offsets[0] == 0, Int(offsets[offsets.count - 1]) == arena.count,
                  zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }) else { return nil }
            let ranks = UInt64(offsets.count - 1)
            guard slots.allSatisfy({ $0 & 0xFFFF_FFFF <= ranks }) else { return nil }
            return try? RankTable(arena: arena, offsets: offsets, slots: slots)
        }
    }

    /// Writes the cache for `table` made from the file `stamp` describes.
    /// Best effort: a cache that cannot be written only costs time later.
    static func store(_ table: RankTable, to cacheURL: URL, from stamp: SourceStamp, spec: EncodingSpec) {
        var payload = Data()
        payload.append(contentsOf: table.arena)
        table.offsets.withUnsafeBytes { payload.append(contentsOf: $0) }
        table.slots.withUnsafeBytes { payload.append(contentsOf: $0) }
        let sum = payload.withUnsafeBytes { checksum($0) }

        var out = Data(magic)
        let path = Array(stamp.path.utf8)
        for v in [stamp.size, stamp.modifiedMs, UInt64(path.count), UInt64(table.arena.count),
                  UInt64(table.offsets.count), UInt64(table.slots.count), sum] {
            withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
        }
        out.append(contentsOf: path)
        out.append(contentsOf: Array(spec.sha256.utf8))
        out.append(payload)
        let dir = cacheURL.deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? out.write(to: cacheURL, options: .atomic)
    }

    /// A fast 64-bit checksum (the rank table's hash, over 4 KB blocks).
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
        var h: UInt64 = 0
        var i = 0
        while i < bytes.count {
            let n = min(4096, bytes.count - i)
            h = (h &* 0x100_0000_01B3) ^ RankTable.hash(base + i, n)
            i += n
        }
        return h
    }
}
