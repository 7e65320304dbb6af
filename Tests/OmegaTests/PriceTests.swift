import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// Money, the price tables, cost formulas and configuration of prices.
@Suite struct PriceTests {
    @Test func moneyParsesDecimalsExactly() {
        #expect(Money(dollars: "0.50")?.picodollars == 500_000_000_000)
        #expect(Money(dollars: "2.5e-06")?.picodollars == 2_500_000)
        #expect(Money(dollars: "1.25E-7")?.picodollars == 125_000)
        #expect(Money(dollars: "0.000000000001")?.picodollars == 1)
        #expect(Money(dollars: "0.0000000000001") == nil)          // finer than a picodollar
        #expect(Money(dollars: "abc") == nil)
        #expect(Money(dollars: "1e30") == nil)                     // too large
        #expect(Money(perMillionTokens: "0.0375")?.picodollars == 37_500)
        #expect(Money(perMillionTokens: "2.50")?.picodollars == 2_500_000)
        #expect(Money(picodollars: 7_250_000_000).description == "$0.00725")
        #expect(Money(picodollars: 1_000_000_000_000).description == "$1.00")
        #expect(Money(picodollars: -12_500_000_000).description == "-$0.0125")
        #expect(Money(picodollars: 7_500_000_000).fraction == (3, 400))
    }

    @Test func moneyNeverAccumulatesBinaryError() throws {
        // A million calls of one gpt-4o-mini input token: exactly $0.15.
        let price = try #require(PriceTable.builtIn.price(for: "gpt-4o-mini"))
        var total = Money.zero
        for _ in 0..<1_000_000 { total = try Money.sum(total, price.input) }
        #expect(total == Money(dollars: "0.15"))
        #expect(throws: Money.Overflow.self) { try Money(picodollars: .max).times(2) }
    }

    @Test func builtInTableHasEveryModelTheSeedsName() throws {
        let t = PriceTable.builtIn
        for m in ["gpt-4o", "gpt-4o-mini", "gpt-4", "gpt-3.5-turbo", "gpt-5.2", "llama-3.3-70b-versatile",
                  "llama-3.1-8b-instant", "claude-opus", "claude-sonnet", "claude-haiku", "claude-sonnet-4"] {
            #expect(t.price(for: m) != nil, "\(m)")
        }
        let gpt52 = try #require(t.price(for: "gpt-5.2"))
        #expect(gpt52.input == Money(perMillionTokens: "1.75") && gpt52.output == Money(perMillionTokens: "14"))
        #expect(t.price(for: "gpt-4o")?.source == "built-in \(PriceTable.builtInDate)")
        // Provider prefixes and dated snapshots find the base model.
        #expect(t.price(for: "openai/gpt-4o")?.model == "gpt-4o")
        #expect(t.price(for: "gpt-4o-2024-08-06")?.model == "gpt-4o")
        #expect(t.price(for: "claude-haiku-4-5-20251001")?.model == "claude-haiku-4-5")
        #expect(t.price(for: "groq/llama-3.1-8b-instant")?.provider == "groq")
    }

    @Test func costFollowsEachProvidersConvention() throws {
        let t = PriceTable.builtIn
        // OpenAI: 1000 prompt tokens of which 200 cached, 500 completion.
        let gpt4o = try #require(t.price(for: "gpt-4o"))
        let openAI = try gpt4o.cost(of: TokenUsage(inputTokens: 1000, outputTokens: 500, cacheReadTokens: 200))
        #expect(openAI == Money(dollars: "0.00725"))   // 800 × 2.5e-6 + 200 × 1.25e-6 + 500 × 1e-5
        // Anthropic: input excludes cache reads and writes, each billed at its own rate.
        let haiku = try #require(t.price(for: "claude-haiku-4-5"))
        let anthropic = try haiku.cost(of: TokenUsage(inputTokens: 1000, outputTokens: 500,
                                                       cacheReadTokens: 2000, cacheWriteTokens: 400))
        // 1000 × 1e-6 + 500 × 5e-6 + 2000 × 1e-7 + 400 × 1.25e-6
        #expect(anthropic == Money(dollars: "0.0042"))
        // No cache price: cached tokens cost the input price.
        let gpt4 = try #require(t.price(for: "gpt-4"))
        #expect(try gpt4.cost(of: TokenUsage(inputTokens: 100, outputTokens: 0, cacheReadTokens: 50)) == Money(dollars: "0.003"))
    }

    @Test func unknownModelsHaveNoPriceUnlessADefaultIsConfigured() throws {
        var t = PriceTable.builtIn
        #expect(throws: PriceError.unknownModel("mystery-1")) { try t.requirePrice(for: "mystery-1") }
        let message = PriceError.unknownModel("mystery-1").description
        #expect(message.contains("[prices.models.\"mystery-1\"]") && message.contains("prices.default"))
        t.defaultPrice = ModelPrice(model: "default", provider: "openai", input: Money(perMillionTokens: "1")!,
                                    output: Money(perMillionTokens: "2")!, source: "test")
        #expect(try t.requirePrice(for: "mystery-1").model == "mystery-1")
    }

    @Test func liteLLMFileIsReadAndMerged() throws {
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/litellm/model_prices_and_context_window.json")
        let json = """
        {"sample_spec": {"input_cost_per_token": 0},
         "gpt-4o": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.2e-05, "litellm_provider": "openai",
                    "cache_read_input_token_cost": 1.5e-06, "max_input_tokens": 128000, "max_output_tokens": 16384},
         "tiny-model": {"input_cost_per_token": 1.6666667e-13, "output_cost_per_token": 2e-07, "litellm_provider": "x"},
         "image-model": {"output_cost_per_image": 0.04}}
        """
        let file = try PriceTable(liteLLMJSON: Data(json.utf8), source: "test.json")
        #expect(file.models == ["gpt-4o", "tiny-model"])
        #expect(file.price(for: "tiny-model")?.input.picodollars == 0)   // rounded to the picodollar
        var merged = PriceTable.builtIn
        merged.merge(file)
        #expect(merged.price(for: "gpt-4o")?.input == Money(dollars: "3e-06"))
        #expect(merged.price(for: "gpt-4o")?.source == "test.json")
        #expect(merged.price(for: "claude-haiku") != nil)   // built-ins stay
        #expect(throws: PriceError.self) { try PriceTable(liteLLMJSON: Data("[1,2".utf8), source: "bad.json") }

        // The real file, when the shared data is present.
        if FileManager.default.fileExists(atPath: url.path) {
            let real = try PriceTable(liteLLMFile: url)
            #expect(real.models.count > 1000)
            #expect(real.price(for: "gpt-4o-mini")?.input == Money(dollars: "1.5e-07"))
            #expect(real.price(for: "claude-haiku-4-5")?.cacheWrite == Money(dollars: "1.25e-06"))
        }
    }

    @Test func timeMoneyAndTokensConvertAsTheSeedSays() throws {
        let c = BudgetConversions()
        let gpt52 = try #require(PriceTable.builtIn.price(for: "gpt-5.2"))
        #expect(try c.cost(minutes: 240) == Money(dollars: "10"))
        #expect(try c.cost(minutes: 15) == Money(dollars: "0.625"))
        #expect(try c.tokens(minutes: 15, price: gpt52) == 44642)     // "~44.6K tokens"
        #expect(try c.tokens(minutes: 60, price: gpt52) == 178571)    // "~178.5K"
        #expect(try c.tokens(minutes: 240, price: gpt52) == 714285)   // "~714K"
    }

    @Test func configurationOverridesPricesAndNamesBadKeys() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("omega-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("config.toml")
        let good = """
        # prices for a team
        [prices]
        dollars-per-hour = 5.00
        default = { input = 1, output = 3 }

        [prices.models."gpt-4o"]
        input = 2.00
        output = 8.00

        [prices.models.house-model]
        provider = "anthropic"
        input = 0.25
        output = 1.25
        cache-read = 0.025
        context = 32000

        [tokenizer]
        fallback-encoding = "cl100k_base"
        [tokenizer.models]
        "house-model*" = "o200k_base"
        """
        let config = try Configuration(text: good, file: file)
        let prices = try config.prices()
        #expect(prices.price(for: "gpt-4o")?.input == Money(perMillionTokens: "2"))
        #expect(prices.price(for: "house-model")?.provider == "anthropic")
        #expect(prices.price(for: "house-model")?.contextWindow == 32000)
        #expect(try prices.requirePrice(for: "anything").output == Money(perMillionTokens: "3"))
        #expect(try config.conversions().dollarsPerHour == Money(dollars: "5"))
        let encodings = try config.modelEncodings()
        #expect(encodings.resolve("house-model-v2") == ("o200k_base", true))
        #expect(encodings.resolve("claude-opus") == ("cl100k_base", false))

        let cases: [(String, String)] = [
            ("[prices.models.x]\ninput = 1\noutput = \"cheap\"\n", "config.toml:3: prices.models.x.output: expected a price"),
            ("[prices.models.x]\ninput = 1\n", "prices.models.x: needs both input and output"),
            ("[prices.models.x]\ninput = 1\noutput = 2\ncolour = 3\n", "config.toml:4: prices.models.x.colour: unknown field"),
            ("[tokenizer]\nfallback-encoding = \"p50k\"\n", "config.toml:2: tokenizer.fallback-encoding: unknown encoding p50k"),
            ("[prices]\nlitellm = \"/no/such/file.json\"\n", "config.toml:2: prices.litellm: /no/such/file.json: cannot read"),
        ]
        for (text, expected) in cases {
            let c = try Configuration(text: text, file: file)
            do {
                _ = try c.prices()
                _ = try c.modelEncodings()
                Issue.record("no error for \(text.debugDescription)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }

    @Test func tomlSyntaxErrorsNameTheLine() throws {
        let cases: [(String, String)] = [
            ("a = 1\nb = \n", "x.toml:2: expected a value"),
            ("a = 1\na = 2\n", "x.toml:2: the key a is set twice"),
            ("[t]\n[t]\n", "x.toml:2: table [t] is defined twice"),
            ("s = \"open\n", "x.toml:1: unterminated string"),
            ("d = 2026-11-22\n", "x.toml:1: '2026-11-22' looks like a date"),
            ("x = word\n", "x.toml:1: 'word' is not a value"),
            ("a = 1 b = 2\n", "x.toml:1: unexpected 'b'"),
        ]
        for (text, expected) in cases {
            #expect(throws: TOMLError.self) { try TOMLParser.parse(text, source: "x.toml") }
            do { _ = try TOMLParser.parse(text, source: "x.toml") } catch {
                #expect("\(error)".hasPrefix(expected), "\(error)")
            }
        }
        let doc = try TOMLParser.parse("""
            title = "Ω budget" # comment
            literal = 'C:\\path'
            multi = \"\"\"
            two
            lines\"\"\"
            n = 1_000
            hex = 0xff
            f = 0.10
            flags = [true, false,
                     true]
            inline = { a = 1, b.c = "d" }
            [[alerts]]
            name = "a"
            [[alerts]]
            name = "b"
            """, source: "doc.toml")
        #expect(doc["title"] == .string("Ω budget"))
        #expect(doc["literal"] == .string("C:\\path"))
        #expect(doc["multi"] == .string("two\nlines"))
        #expect(doc["n"] == .integer(1000) && doc["hex"] == .integer(255))
        #expect(doc["f"] == .decimal("0.10"))
        #expect(doc["flags"] == .array([.bool(true), .bool(false), .bool(true)]))
        guard case .array(let alerts)? = doc["alerts"], alerts.count == 2 else {
            Issue.record("arrays of tables")
            return
        }
    }
}
