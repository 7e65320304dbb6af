import OmegaCore
/// A tiktoken encoding Omega can load: where its rank file comes from, the
/// file's checksum, its special tokens and its pre-tokenisation pattern.
public struct EncodingSpec: Sendable, Hashable {
    /// The encoding's name, as tiktoken spells it (`cl100k_base`).
    public let name: String
    /// The URL tiktoken downloads the rank file from; its SHA-1 names the file
    /// in tiktoken's cache.
    public let url: String
    /// SHA-256 of the uncompressed rank file.
    public let sha256: String
    /// Special tokens and their ids (not in the rank file).
    public let specialTokens: [String: Int]
    /// How many ranks the file holds.
    public let rankCount: Int
    let pattern: PreTokenizer.Pattern

    /// GPT-4 and GPT-3.5's encoding.
    public static let cl100k = EncodingSpec(
        name: "cl100k_base",
        url: "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        sha256: "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        specialTokens: ["<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                        "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276],
        rankCount: 100256, pattern: .cl100k)

    /// GPT-4o, GPT-4.1, GPT-5 and the o-series' encoding.
    public static let o200k = EncodingSpec(
        name: "o200k_base",
        url: "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        sha256: "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        specialTokens: ["<|endoftext|>": 199999, "<|endofprompt|>": 200018],
        rankCount: 199998, pattern: .o200k)

    /// Every encoding Omega knows.
    public static let all: [EncodingSpec] = [.cl100k, .o200k]

    /// The encoding called `name` (`cl100k_base`, also `cl100k`), or nil.
    public static func named(_ name: String) -> EncodingSpec? {
        let n = name.lowercased()
        return all.first { $0.name == n || $0.name == n + "_base" }
    }

    /// The file name tiktoken's cache gives this encoding: the SHA-1 of its URL.
    public var tiktokenCacheName: String { Digest.sha1Hex(Array(url.utf8)) }
}
