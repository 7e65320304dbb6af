import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// Where rank files are found, in which order, and what is refused.
@Suite(.serialized) struct RankFileTests {
    /// A scratch directory tree; every test gets its own.
    final class Scratch {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("omega-ranks-\(UUID().uuidString)")
        init() throws { try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(at: root) }
        func dir(_ name: String) throws -> URL {
            let d = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            return d
        }
    }

    /// The real cl100k file as scripts/setup installed it (gzipped).
    static var installed: URL? { TokenCounter().tokenizer(.cl100k).map(\.source).value ?? nil }

    static func environment(_ scratch: Scratch, _ extra: [String: String]) -> [String: String] {
        // HOME and TMPDIR inside the scratch tree: nothing outside it is found.
        ["HOME": scratch.root.path, "TMPDIR": scratch.root.appendingPathComponent("tmp").path,
         "XDG_CACHE_HOME": scratch.root.appendingPathComponent("xdg").path].merging(extra) { $1 }
    }

    @Test func candidatesFollowTheDocumentedOrder() throws {
        let files = RankFiles(environment: ["OMEGA_TOKENIZER_DIR": "/o", "TIKTOKEN_CACHE_DIR": "/t",
                                            "DATA_GYM_CACHE_DIR": "/d", "TMPDIR": "/tmp2", "XDG_CACHE_HOME": "/x", "HOME": "/h"])
        let sha1 = EncodingSpec.cl100k.tiktokenCacheName
        #expect(sha1 == "9b5ad71b2ce5302211f9c61530b329a4922fc6a4")
        let paths = files.candidates(for: .cl100k).map(\.path)
        #expect(paths == [
            "/o/cl100k_base.tiktoken", "/o/cl100k_base.tiktoken.gz", "/o/\(sha1)", "/o/\(sha1).gz",
            "/t/\(sha1)", "/d/\(sha1)", "/tmp2/data-gym-cache/\(sha1)",
            "/x/omega/tokenizers/cl100k_base.tiktoken", "/x/omega/tokenizers/cl100k_base.tiktoken.gz",
            "/x/omega/tokenizers/\(sha1)", "/x/omega/tokenizers/\(sha1).gz",
        ])
        let home = RankFiles(environment: ["HOME": "/h"]).candidates(for: .o200k).map(\.path)
        #expect(home.last == "/h/.cache/omega/tokenizers/\(EncodingSpec.o200k.tiktokenCacheName).gz")
        #expect(home.contains("/tmp/data-gym-cache/\(EncodingSpec.o200k.tiktokenCacheName)"))
    }

    @Test func aFileWithTheWrongChecksumIsRefusedAndTheNextOneUsed() throws {
        let source = try #require(Self.installed, "tokenizer files missing: \(RankFiles.installHint)")
        let scratch = try Scratch()
        let omegaDir = try scratch.dir("omega"), tiktokenDir = try scratch.dir("tiktoken")
        // A damaged plain file first; the genuine one, gunzipped, in tiktoken's cache.
        let plain = try Gzip.decompress(try Data(contentsOf: source))
        var damaged = plain
        damaged[100] ^= 1
        try Data(damaged).write(to: omegaDir.appendingPathComponent("cl100k_base.tiktoken"))
        let good = tiktokenDir.appendingPathComponent(EncodingSpec.cl100k.tiktokenCacheName)
        try Data(plain).write(to: good)

        let files = RankFiles(environment: Self.environment(scratch, ["OMEGA_TOKENIZER_DIR": omegaDir.path,
                                                                      "TIKTOKEN_CACHE_DIR": tiktokenDir.path]))
        let found = try files.load(.cl100k)
        #expect(found.source.path == good.path)
        #expect(found.rejected.count == 1)
        #expect(found.rejected.first?.contains("sha256") == true)
        let t = Tokenizer(encoding: .cl100k, ranks: found.table, source: found.source)
        #expect(t.encodeOrdinary("hello world") == [15339, 1917])
    }

    @Test func theFirstGoodFileWinsAndGzipIsReadDirectly() throws {
        let source = try #require(Self.installed, "tokenizer files missing: \(RankFiles.installHint)")
        let scratch = try Scratch()
        let omegaDir = try scratch.dir("omega"), gym = try scratch.dir("tmp/data-gym-cache")
        try FileManager.default.copyItem(at: source, to: omegaDir.appendingPathComponent("cl100k_base.tiktoken.gz"))
        try Data(try Gzip.decompress(try Data(contentsOf: source)))
            .write(to: gym.appendingPathComponent(EncodingSpec.cl100k.tiktokenCacheName))
        let env = Self.environment(scratch, ["OMEGA_TOKENIZER_DIR": omegaDir.path])
        #expect(try RankFiles(environment: env).load(.cl100k).source.lastPathComponent == "cl100k_base.tiktoken.gz")
        // Without $OMEGA_TOKENIZER_DIR, tiktoken's default cache in $TMPDIR.
        var noOmega = env
        noOmega["OMEGA_TOKENIZER_DIR"] = nil
        #expect(try RankFiles(environment: noOmega).load(.cl100k).source.path.hasPrefix(gym.path))
    }

    @Test func missingFilesGiveALabelledEstimate() throws {
        let scratch = try Scratch()
        let files = RankFiles(environment: Self.environment(scratch, [:]))
        #expect(throws: TokenizerError.self) { try files.load(.o200k) }
        let counter = TokenCounter(files: files)
        let c = counter.count("twelve chars", model: "gpt-4o")
        #expect(c == TokenCount(tokens: 3, exact: false, encoding: nil, note: c.note))
        #expect(c.note?.contains("characters ÷ 4") == true)
        #expect(c.note?.contains("scripts/setup") == true)
    }

    @Test func theBinaryCacheIsUsedAndADamagedOneIgnored() throws {
        let source = try #require(Self.installed, "tokenizer files missing: \(RankFiles.installHint)")
        let scratch = try Scratch()
        let dir = try scratch.dir("ranks")
        try FileManager.default.copyItem(at: source, to: dir.appendingPathComponent("cl100k_base.tiktoken.gz"))
        let files = RankFiles(environment: Self.environment(scratch, ["OMEGA_TOKENIZER_DIR": dir.path]))
        let first = try files.load(.cl100k)
        let cache = RankCache.url(for: .cl100k, in: files.omegaCacheDirectory)
        #expect(FileManager.default.fileExists(atPath: cache.path))
        let stamp = try #require(RankCache.SourceStamp(first.source))
        let cached = try #require(RankCache.load(cache, for: stamp, spec: .cl100k))
        #expect(cached.arena == first.table.arena && cached.slots == first.table.slots)

        // Flip a payload byte: the cache is refused, the file read again, the cache rewritten.
        var bytes = try Data(contentsOf: cache)
        bytes[bytes.count - 5] ^= 0x40
        try bytes.write(to: cache)
        #expect(RankCache.load(cache, for: stamp, spec: .cl100k) == nil)
        let again = try files.load(.cl100k)
        #expect(Tokenizer(encoding: .cl100k, ranks: again.table, source: nil).encodeOrdinary("hello world") == [15339, 1917])
        #expect(RankCache.load(cache, for: stamp, spec: .cl100k) != nil)
        // A changed source (different size or time) does not match the cache.
        var moved = stamp
        moved.modifiedMs += 1000
        #expect(RankCache.load(cache, for: moved, spec: .cl100k) == nil)
    }

    @Test func digestsMatchKnownVectors() {
        #expect(Digest.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha256Hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha1Hex(Array("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(Digest.sha256Hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

extension Result {
    var value: Success? { try? get() }
}
