import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// The tokenizer against ids tiktoken produced (Tests/tokens/expected.json,
/// made by Tests/tokens/make-expected.py). The rank files come from
/// scripts/setup; without them these tests fail with the install hint.
@Suite struct TokenizerTests {
    struct Expected: Decodable {
        struct Case: Decodable {
            var text: String
            var cl100k_base: [Int]
            var o200k_base: [Int]
        }
        struct Long: Decodable {
            struct Digest: Decodable { var count: Int; var ids_sha256: String }
            var label: String
            var cl100k_base: Digest
            var o200k_base: Digest
        }
        var cases: [Case]
        var long: [Long]
        var special: Case
    }

    static let expected: Expected? = {
        let url = packageRoot.appendingPathComponent("Tests/tokens/expected.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(Expected.self, from: data)
    }()

    static func tokenizer(_ spec: EncodingSpec) throws -> Tokenizer {
        try TokenCounter().tokenizer(spec).get()
    }

    @Test(arguments: [EncodingSpec.cl100k, .o200k])
    func idsAreTiktokens(_ spec: EncodingSpec) throws {
        let t = try Self.tokenizer(spec)
        let expected = try #require(Self.expected)
        var mismatches: [String] = []
        for c in expected.cases {
            let want = spec == .cl100k ? c.cl100k_base : c.o200k_base
            let got = t.encodeOrdinary(c.text)
            if got != want { mismatches.append("\(c.text.debugDescription): expected \(want), got \(got)") }
            // Decoding gives the text back.
            #expect(try t.decode(got) == c.text)
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5).joined(separator: "\n"))")
        #expect(expected.cases.count > 400)
    }

    @Test(arguments: [EncodingSpec.cl100k, .o200k])
    func longPathologicalInputsAreExactAndLinear(_ spec: EncodingSpec) throws {
        let t = try Self.tokenizer(spec)
        let expected = try #require(Self.expected)
        for long in expected.long {
            let text = Self.longText(long.label)
            let want = spec == .cl100k ? long.cl100k_base : long.o200k_base
            let ids = t.encodeOrdinary(text)
            #expect(ids.count == want.count, "\(long.label)")
            #expect(Digest.sha256Hex(Array(ids.map(String.init).joined(separator: " ").utf8)) == want.ids_sha256, "\(long.label)")
        }
    }

    /// The long inputs of make-expected.py, rebuilt from their labels.
    static func longText(_ label: String) -> String {
        switch label {
        case "a x 100000": return String(repeating: "a", count: 100000)
        case "digits x 100000": return String(repeating: "7", count: 100000)
        case "spaces x 100000": return String(repeating: " ", count: 100000) + "x"
        case "newlines x 50000": return String(repeating: "\n", count: 50000)
        case "ab x 50000": return String(repeating: "ab", count: 50000)
        case "emoji x 20000": return String(repeating: "🙂", count: 20000)
        case "punctuation x 100000": return String(repeating: "!", count: 100000)
        case "letters x 50000":
            var bytes: [UInt8] = []
            for i in 0..<50000 {
                let letter: Int = (i * i * 31 + i * 17) % 26
                bytes.append(UInt8(97 + letter))
            }
            return String(decoding: bytes, as: UTF8.self)
        default: return "unknown label \(label)"
        }
    }

    @Test func specialTokens() throws {
        let t = try Self.tokenizer(.cl100k)
        let text = "a<|endoftext|>b"
        #expect(throws: TokenizerError.disallowedSpecialToken("<|endoftext|>")) { try t.encode(text) }
        #expect(try t.encode(text, special: .allowedAll) == [64, 100257, 65])
        #expect(try t.encode(text, special: .allowed(["<|endoftext|>"])) == [64, 100257, 65])
        #expect(throws: TokenizerError.disallowedSpecialToken("<|endoftext|>")) {
            try t.encode(text, special: .allowed(["<|fim_prefix|>"]))
        }
        #expect(try t.encode(text, special: .ordinary) == t.encodeOrdinary(text))
        #expect(t.encodeOrdinary(text).count > 3)
        #expect(try t.decode([64, 100257, 65]) == text)
        #expect(throws: TokenizerError.unknownToken(100256)) { try t.decode([100256]) }

        let expected = try #require(Self.expected)
        for spec in [EncodingSpec.cl100k, .o200k] {
            let want = spec == .cl100k ? expected.special.cl100k_base : expected.special.o200k_base
            #expect(try Self.tokenizer(spec).encode(expected.special.text, special: .allowedAll) == want)
        }
    }

    @Test func invalidUTF8BecomesReplacementCharacters() throws {
        let t = try Self.tokenizer(.o200k)
        let bytes: [UInt8] = Array("ok ".utf8) + [0xFF, 0xC3] + Array(" done".utf8)
        #expect(t.encodeOrdinary(bytes: bytes) == t.encodeOrdinary("ok \u{FFFD}\u{FFFD} done"))
        // A token that is half a character decodes to a replacement character.
        let ids = t.encodeOrdinary("🙂")
        if ids.count > 1 { #expect(try t.decode([ids[0]]).contains("\u{FFFD}")) }
        #expect(try t.decodeBytes(ids) == Array("🙂".utf8))
    }

    @Test func modelsChooseTheirEncoding() {
        let m = ModelEncodings()
        #expect(m.resolve("gpt-4o").encoding == "o200k_base")
        #expect(m.resolve("gpt-4o-mini-2024-07-18") == ("o200k_base", true))
        #expect(m.resolve("gpt-5.2").encoding == "o200k_base")
        #expect(m.resolve("o3-mini").encoding == "o200k_base")
        #expect(m.resolve("gpt-4.1-nano").encoding == "o200k_base")
        #expect(m.resolve("gpt-4").encoding == "cl100k_base")
        #expect(m.resolve("gpt-4-turbo").encoding == "cl100k_base")
        #expect(m.resolve("gpt-3.5-turbo") == ("cl100k_base", true))
        #expect(m.resolve("openai/gpt-4o").encoding == "o200k_base")
        #expect(m.resolve("ft:gpt-4o-mini:acme::abc123").encoding == "o200k_base")
        #expect(m.resolve("claude-sonnet-4-5") == ("o200k_base", false))
        #expect(m.resolve("llama-3.3-70b-versatile").exact == false)
        var custom = ModelEncodings()
        custom.custom = [.init("my-model*", "cl100k_base")]
        custom.fallback = "cl100k_base"
        #expect(custom.resolve("my-model-7b") == ("cl100k_base", true))
        #expect(custom.resolve("claude-haiku-4-5") == ("cl100k_base", false))
    }

    @Test func countsAreLabelled() throws {
        let counter = TokenCounter()
        let exact = counter.count("hello world", model: "gpt-4o")
        #expect(exact == TokenCount(tokens: 2, exact: true, encoding: "o200k_base", note: nil))
        let estimate = counter.count("hello world", model: "claude-haiku-4-5")
        #expect(estimate.tokens == 2 && !estimate.exact)
        #expect(estimate.note?.contains("claude-haiku-4-5 has its own tokenizer") == true)
    }

    @Test func chatMessagesIncludeOpenAIsFraming() throws {
        let counter = TokenCounter()
        let messages = [ChatMessage(role: "system", content: "You are terse."),
                        ChatMessage(role: "user", content: "Hi there", name: "ann")]
        let parts = ["system", "You are terse.", "user", "Hi there", "ann"].map { counter.count($0, model: "gpt-4o").tokens }
        let c = counter.count(messages: messages, model: "gpt-4o")
        #expect(c.exact)
        #expect(c.tokens == parts.reduce(0, +) + 3 * 2 + 1 + 3)
    }
}
