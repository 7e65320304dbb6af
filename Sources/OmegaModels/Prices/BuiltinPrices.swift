import OmegaCore
/// Omega's own price table: the models a user is likely to meet.
///
/// One model per line: name, provider, then USD per million tokens for input,
/// output, cache read and cache write (`-` when the provider has none), the
/// context window and the output limit in tokens (`-` when unknown).
/// `alias NAME MODEL` lines give short names. Prices are the providers'
/// published list prices on the date below; users override or extend them in
/// config or with LiteLLM's price file.
extension PriceTable {
    /// The date the built-in prices were checked.
    public static let builtInDate = "2026-11-22"

    static let builtInText = """
    # model                     provider   input   output  c-read  c-write  context  max-out
    gpt-5.2                     openai     1.75    14.00   0.175   -        400000   128000
    gpt-5.1                     openai     1.25    10.00   0.125   -        400000   128000
    gpt-5                       openai     1.25    10.00   0.125   -        400000   128000
    gpt-5-mini                  openai     0.25    2.00    0.025   -        400000   128000
    gpt-5-nano                  openai     0.05    0.40    0.005   -        400000   128000
    gpt-5-pro                   openai     15.00   120.00  -       -        400000   272000
    gpt-4.1                     openai     2.00    8.00    0.50    -        1047576  32768
    gpt-4.1-mini                openai     0.40    1.60    0.10    -        1047576  32768
    gpt-4.1-nano                openai     0.10    0.40    0.025   -        1047576  32768
    gpt-4o                      openai     2.50    10.00   1.25    -        128000   16384
    gpt-4o-mini                 openai     0.15    0.60    0.075   -        128000   16384
    gpt-4-turbo                 openai     10.00   30.00   -       -        128000   4096
    gpt-4                       openai     30.00   60.00   -       -        8192     4096
    gpt-3.5-turbo               openai     0.50    1.50    -       -        16385    4096
    o1                          openai     15.00   60.00   7.50    -        200000   100000
    o3                          openai     2.00    8.00    0.50    -        200000   100000
    o3-pro                      openai     20.00   80.00   -       -        200000   100000
    o3-mini                     openai     1.10    4.40    0.55    -        200000   100000
    o4-mini                     openai     1.10    4.40    0.275   -        200000   100000
    text-embedding-3-small      openai     0.02    0       -       -        8191     -
    text-embedding-3-large      openai     0.13    0       -       -        8191     -
    claude-opus-4-5             anthropic  5.00    25.00   0.50    6.25     200000   64000
    claude-opus-4-1             anthropic  15.00   75.00   1.50    18.75    200000   32000
    claude-opus-4               anthropic  15.00   75.00   1.50    18.75    200000   32000
    claude-sonnet-4-5           anthropic  3.00    15.00   0.30    3.75     200000   64000
    claude-sonnet-4             anthropic  3.00    15.00   0.30    3.75     200000   64000
    claude-3-7-sonnet           anthropic  3.00    15.00   0.30    3.75     200000   8192
    claude-3-5-sonnet           anthropic  3.00    15.00   0.30    3.75     200000   8192
    claude-haiku-4-5            anthropic  1.00    5.00    0.10    1.25     200000   64000
    claude-3-5-haiku            anthropic  0.80    4.00    0.08    1.00     200000   8192
    claude-3-haiku              anthropic  0.25    1.25    0.03    0.30     200000   4096
    claude-3-opus               anthropic  15.00   75.00   1.50    18.75    200000   4096
    llama-3.3-70b-versatile     groq       0.59    0.79    -       -        131072   32768
    llama-3.1-8b-instant        groq       0.05    0.08    -       -        131072   131072
    openai/gpt-oss-120b         groq       0.15    0.60    0.075   -        131072   65536
    openai/gpt-oss-20b          groq       0.075   0.30    0.0375  -        131072   65536
    alias claude-opus           claude-opus-4-5
    alias claude-sonnet         claude-sonnet-4-5
    alias claude-haiku          claude-haiku-4-5
    alias gpt-oss-120b          openai/gpt-oss-120b
    alias gpt-oss-20b           openai/gpt-oss-20b
    alias chatgpt-4o-latest     gpt-4o
    """

    /// The built-in table.
    public static let builtIn: PriceTable = {
        // The text above is part of the program; a mistake in it is caught by
        // the tests, so an empty table here can only follow a broken build.
        (try? PriceTable(parsing: builtInText, source: "built-in \(builtInDate)")) ?? PriceTable()
    }()

    /// Parses a table in the format above; errors name `source` and the line.
    public init(parsing text: String, source: String) throws {
        self.init()
        // Split over UTF-8 bytes: by Characters, the built-in table alone
        // took 0.3 ms of every start.
        for (index, raw) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let line = raw.prefix { $0 != UInt8(ascii: "#") }
            let fields = line.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") })
                .map { String(decoding: $0, as: UTF8.self) }
            if fields.isEmpty { continue }
            func fail(_ why: String) -> PriceError { .badFile("\(source):\(index + 1): \(why)") }
            if fields[0] == "alias" {
                guard fields.count == 3 else { throw fail("expected `alias NAME MODEL`") }
                alias(fields[1], to: fields[2])
                continue
            }
            guard fields.count >= 4 else {
                throw fail("expected `model provider input output [cache-read cache-write context max-output]`")
            }
            func money(_ i: Int, _ what: String) throws -> Money? {
                guard i < fields.count, fields[i] != "-" else { return nil }
                guard let m = Money(perMillionTokens: fields[i]), m >= .zero else {
                    throw fail("\(what) price '\(fields[i])' is not a non-negative number of USD per million tokens")
                }
                return m
            }
            func count(_ i: Int, _ what: String) throws -> Int? {
                guard i < fields.count, fields[i] != "-" else { return nil }
                guard let n = Int(fields[i]), n > 0 else { throw fail("\(what) '\(fields[i])' is not a positive whole number") }
                return n
            }
            guard let input = try money(2, "input"), let output = try money(3, "output") else {
                throw fail("input and output prices are required")
            }
            set(ModelPrice(model: fields[0], provider: fields[1], input: input, output: output,
                           cacheRead: try money(4, "cache-read"), cacheWrite: try money(5, "cache-write"),
                           contextWindow: try count(6, "context"), maxOutputTokens: try count(7, "max-output"),
                           source: source))
        }
    }
}
