import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// The HTTP backends' wire formats against a scripted local server, and
/// record/replay. (The OpenAI-compatible backend is also tested against a
/// real model server by scripts/test-llm.)
@Suite struct BackendTests {
    static let key = "sk-secret-test-key-123"

    func request(_ prompt: Prompt = .text("Hello"), model: String = "gpt-4o", maxTokens: Int = 50,
                 system: String? = nil, timeout: Double = 10, stream: Bool = false) -> InferenceRequest {
        var r = InferenceRequest(prompt: prompt, model: model, maxTokens: maxTokens, system: system,
                                 promptTokens: TokenCount(tokens: 9, exact: true, encoding: "o200k_base", note: nil),
                                 timeout: timeout)
        if stream { r.stream = true }
        return r
    }

    /// An `interrupted` check that says yes after `seconds`: a stuck call
    /// fails the test instead of blocking it.
    static func deadline(_ seconds: Double) -> () -> Bool {
        let end = Date().addingTimeInterval(seconds)
        return { Date() > end }
    }

    // MARK: OpenAI-compatible

    @Test func openAIChatCompletion() async throws {
        let server = try StubServer([.init(chunks: ["""
            {"id":"c1","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Hi there"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":200},"completion_tokens_details":{"reasoning_tokens":120}}}
            """])])
        defer { server.close() }
        let backend = OpenAIBackend(baseURL: server.baseURL + "/v1", apiKey: Self.key)
        let r = try await backend.infer(request(system: "Be brief."))
        #expect(r.text == "Hi there")
        #expect(r.usage == TokenUsage(inputTokens: 1000, outputTokens: 500, cacheReadTokens: 200, reasoningTokens: 120))
        #expect(r.usageSource == .reported)
        // The backend reports usage; the meter prices it (once).
        #expect(r.cost == nil)
        #expect(try PriceTable.builtIn.price(for: "gpt-4o")?.cost(of: r.usage) == Money(dollars: "0.00725"))
        #expect(r.model == "gpt-4o-2024-08-06" && r.finishReason == "stop" && r.backend == "openai")
        let sent = try #require(server.requests.first)
        #expect(sent.path == "/v1/chat/completions")
        #expect(sent.header("authorization") == "Bearer \(Self.key)")
        let body = try #require(sent.json)
        #expect(body["model"] as? String == "gpt-4o")
        #expect(body["max_tokens"] as? Int == 50)
        #expect((body["messages"] as? [[String: String]])?.map { $0["role"] ?? "" } == ["system", "user"])
    }

    func json(_ data: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    @Test func openAIReasoningModelsGetMaxCompletionTokens() {
        let b = OpenAIBackend(baseURL: "http://x/v1", apiKey: nil)
        #expect(json(b.body(request(model: "gpt-5-mini"), stream: false))["max_completion_tokens"] as? Int == 50)
        #expect(json(b.body(request(model: "gpt-4o"), stream: false))["max_tokens"] as? Int == 50)
        #expect(json(b.body(request(model: "gpt-4o"), stream: false))["max_completion_tokens"] == nil)
    }

    /// A call's provider fields go into every provider's body as JSON values,
    /// at the top level, beside the fields Omega sets.
    @Test func providerFieldsTravelIntoTheBody() {
        var r = request()
        r.providerFields = ["top_p": .number(0.5), "seed": .integer(7), "logit_bias": .object(["42": .integer(-100)]),
                            "user": .string("agent-7"), "parallel_tool_calls": .bool(false)]
        let bodies = [OpenAIBackend(baseURL: "http://x/v1", apiKey: nil).body(r, stream: true),
                      AnthropicBackend(baseURL: "http://x", apiKey: "k").body(r, stream: false),
                      OllamaBackend(host: "http://x").body(r, stream: false)]
        for data in bodies {
            let o = json(data)
            #expect(o["top_p"] as? Double == 0.5 && o["seed"] as? Int == 7 && o["user"] as? String == "agent-7", "\(o)")
            #expect((o["logit_bias"] as? [String: Int])?["42"] == -100 && o["parallel_tool_calls"] as? Bool == false)
            #expect(o["model"] as? String == "gpt-4o")
        }
        #expect(json(bodies[0])["stream"] as? Bool == true)
        #expect((json(bodies[0])["stream_options"] as? [String: Bool])?["include_usage"] == true)
        #expect((json(bodies[2])["options"] as? [String: Any])?["num_predict"] as? Int == 50)
    }

    @Test func rateLimitsAreRetriedHonouringRetryAfter() async throws {
        let server = try StubServer([
            .init(status: 429, headers: [("retry-after", "0"), ("content-type", "application/json")],
                  chunks: [#"{"error":{"message":"Rate limit reached","type":"requests"}}"#]),
            .init(status: 503, chunks: [#"{"error":{"message":"overloaded"}}"#]),
            .init(chunks: [#"{"choices":[{"message":{"content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#]),
        ])
        defer { server.close() }
        var backend = OpenAIBackend(baseURL: server.baseURL + "/v1", apiKey: Self.key)
        backend.transport.baseDelay = 0.01
        let r = try await backend.infer(request())
        #expect(r.text == "ok")
        #expect(server.requests.count == 3)
    }

    @Test func clientErrorsAreNotRetriedAndNeverShowTheKey() async throws {
        let server = try StubServer([.init(status: 401, chunks: [#"{"error":{"message":"Incorrect API key provided: sk-secret-test-key-123","type":"invalid_request_error"}}"#])])
        defer { server.close() }
        let backend = OpenAIBackend(baseURL: server.baseURL + "/v1", apiKey: Self.key)
        do {
            _ = try await backend.infer(request())
            Issue.record("no error")
        } catch let e as BackendError {
            #expect(e.kind == .client && e.status == 401)
            #expect(e.message.contains("Incorrect API key provided"))
            #expect(!e.message.contains(Self.key))
        }
        #expect(server.requests.count == 1)
    }

    @Test func serverErrorsGiveUpAfterTheRetries() async throws {
        let server = try StubServer(Array(repeating: .init(status: 500, chunks: ["<html>boom</html>"]), count: 4))
        defer { server.close() }
        var backend = OpenAIBackend(baseURL: server.baseURL + "/v1", apiKey: nil)
        backend.transport.baseDelay = 0.01
        do {
            _ = try await backend.infer(request())
            Issue.record("no error")
        } catch let e as BackendError {
            #expect(e.kind == .server)
            #expect(e.message == "server error (500): <html>boom</html>")
        }
        #expect(server.requests.count == 4)
    }

    @Test func aSlowServerTimesOut() async throws {
        let server = try StubServer([.init(chunks: ["{}"], delay: 3)])
        defer { server.close() }
        let engine = EffectEngine(backend: OpenAIBackend(baseURL: server.baseURL + "/v1", apiKey: nil))
        let t = try engine.submit(request(timeout: 0.3))
        _ = try engine.wait(for: [t], interrupted: Self.deadline(30))
        guard case .failure(let e as BackendError)? = engine.take(t) else { Issue.record("no timeout"); return }
        #expect(e.kind == .timeout)
    }

    @Test func callsAreInFlightTogether() throws {
        // No reply is sent before all four requests have arrived: if the
        // engine sent one call at a time, none would ever be answered.
        let reply = StubServer.Reply(chunks: [#"{"choices":[{"message":{"content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#], gate: 4)
        let server = try StubServer(Array(repeating: reply, count: 4))
        defer { server.close() }
        let engine = EffectEngine(backend: OpenAIBackend(baseURL: server.baseURL + "/v1", apiKey: nil))
        var tickets = try (0..<4).map { _ in try engine.submit(request()) }
        while !tickets.isEmpty {
            let t = try engine.wait(for: tickets, interrupted: Self.deadline(30))
            tickets.removeAll { $0 == t }
            guard case .success(let r)? = engine.take(t) else { Issue.record("call failed"); return }
            #expect(r.text == "ok")
        }
        #expect(server.requests.count == 4)
    }

    @Test func openAIStreamingWithAndWithoutUsage() async throws {
        func sse(_ objects: [String]) -> [String] { objects.map { "data: \($0)\n\n" } + ["data: [DONE]\n\n"] }
        let server = try StubServer([
            .init(headers: [("content-type", "text/event-stream")], chunks: sse([
                #"{"model":"gpt-4o","choices":[{"delta":{"content":"Hel"}}]}"#,
                #"{"choices":[{"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
                #"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2}}"#])),
            .init(headers: [("content-type", "text/event-stream")], chunks: sse([
                #"{"choices":[{"delta":{"content":"hello world"},"finish_reason":"length"}]}"#])),
        ])
        defer { server.close() }
        let backend = OpenAIBackend(baseURL: server.baseURL + "/v1", apiKey: nil, stream: true)
        let a = try await backend.infer(request())
        #expect(a.text == "Hello" && a.usage == TokenUsage(inputTokens: 12, outputTokens: 2) && a.usageSource == .reported)
        #expect((server.requests[0].json?["stream_options"] as? [String: Bool])?["include_usage"] == true)
        let b = try await backend.infer(request())
        #expect(b.text == "hello world" && b.finishReason == "length")
        #expect(b.usage == TokenUsage(inputTokens: 9, outputTokens: 2))   // counted: the prompt's 9, "hello world" = 2
        #expect(b.usageSource == .counted)
    }

    @Test func aCutStreamIsAnErrorThatStillBillsWhatArrived() async throws {
        let server = try StubServer([.init(headers: [("content-type", "text/event-stream")],
                                           chunks: [#"data: {"choices":[{"delta":{"content":"hello world"}}]}"# + "\n\n"], cut: true)])
        defer { server.close() }
        let backend = OpenAIBackend(baseURL: server.baseURL + "/v1", apiKey: nil, stream: true)
        do {
            _ = try await backend.infer(request())
            Issue.record("no error")
        } catch let e as BackendError {
            #expect(e.kind == .cutStream)
            #expect(e.billed == TokenUsage(inputTokens: 9, outputTokens: 2))
        }
    }

    // MARK: Anthropic

    @Test func anthropicMessages() async throws {
        let server = try StubServer([.init(chunks: ["""
            {"id":"m1","type":"message","model":"claude-haiku-4-5-20251001","content":[{"type":"text","text":"Bonjour"}],
             "stop_reason":"max_tokens","usage":{"input_tokens":1000,"output_tokens":500,"cache_creation_input_tokens":400,"cache_read_input_tokens":2000}}
            """])])
        defer { server.close() }
        let backend = AnthropicBackend(baseURL: server.baseURL, apiKey: Self.key)
        let r = try await backend.infer(request(model: "claude-haiku-4-5", system: "Answer in French."))
        #expect(r.text == "Bonjour" && r.finishReason == "length")
        #expect(r.usage == TokenUsage(inputTokens: 1000, outputTokens: 500, cacheReadTokens: 2000, cacheWriteTokens: 400))
        #expect(r.cost == nil)
        #expect(try PriceTable.builtIn.price(for: "claude-haiku-4-5")?.cost(of: r.usage) == Money(dollars: "0.0042"))
        let sent = try #require(server.requests.first)
        #expect(sent.path == "/v1/messages")
        #expect(sent.header("x-api-key") == Self.key && sent.header("anthropic-version") == "2023-06-01")
        #expect(sent.json?["system"] as? String == "Answer in French.")
        #expect((sent.json?["messages"] as? [[String: String]])?.count == 1)
    }

    @Test func anthropicErrorsAndStreaming() async throws {
        let events = [
            #"{"type":"message_start","message":{"model":"claude-haiku-4-5","usage":{"input_tokens":25,"output_tokens":1}}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" you"}}"#,
            #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}"#,
            #"{"type":"message_stop"}"#,
        ].map { "event: x\ndata: \($0)\n\n" }
        let server = try StubServer([
            .init(status: 429, headers: [("retry-after", "0")], chunks: [#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}}"#]),
            .init(headers: [("content-type", "text/event-stream")], chunks: events),
            .init(headers: [("content-type", "text/event-stream")], chunks: Array(events.prefix(2)), cut: true),
            .init(status: 400, chunks: [#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: must be positive"}}"#]),
        ])
        defer { server.close() }
        let backend = AnthropicBackend(baseURL: server.baseURL, apiKey: Self.key, stream: true)
        let r = try await backend.infer(request(model: "claude-haiku-4-5"))
        #expect(r.text == "Hi you" && r.finishReason == "stop")
        #expect(r.usage == TokenUsage(inputTokens: 25, outputTokens: 3))
        do {
            _ = try await backend.infer(request(model: "claude-haiku-4-5"))
            Issue.record("no error")
        } catch let e as BackendError {
            #expect(e.kind == .cutStream && e.billed?.inputTokens == 25)
        }
        do {
            _ = try await backend.infer(request(model: "claude-haiku-4-5"))
            Issue.record("no error")
        } catch let e as BackendError {
            #expect(e.kind == .client && e.message.contains("max_tokens: must be positive [invalid_request_error]"))
        }
        let noKey = AnthropicBackend(baseURL: server.baseURL, apiKey: nil)
        await #expect(throws: BackendError.self) { try await noKey.infer(request()) }
    }

    // MARK: Ollama

    @Test func ollamaChat() async throws {
        let server = try StubServer([
            .init(chunks: [#"{"model":"llama3.2","message":{"role":"assistant","content":"Hey"},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":4}"#]),
            .init(headers: [("content-type", "application/x-ndjson")], chunks: [
                #"{"model":"llama3.2","message":{"content":"A"},"done":false}"# + "\n",
                #"{"model":"llama3.2","message":{"content":"B"},"done":false}"# + "\n",
                #"{"model":"llama3.2","message":{"content":""},"done":true,"done_reason":"length","prompt_eval_count":30,"eval_count":2}"# + "\n"]),
        ])
        defer { server.close() }
        let backend = OllamaBackend(host: "127.0.0.1:\(server.port)")
        let a = try await backend.infer(request(model: "llama3.2"))
        #expect(a.text == "Hey" && a.usage == TokenUsage(inputTokens: 26, outputTokens: 4) && a.usageSource == .reported)
        #expect((server.requests[0].json?["options"] as? [String: Any])?["num_predict"] as? Int == 50)
        #expect(server.requests[0].path == "/api/chat")
        let b = try await OllamaBackend(host: server.baseURL, stream: true).infer(request(model: "llama3.2"))
        #expect(b.text == "AB" && b.finishReason == "length" && b.usage == TokenUsage(inputTokens: 30, outputTokens: 2))
    }

    // MARK: Record and replay

    @Test func recordThenReplay() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("omega-rec-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        let recorder = try RecordingBackend(SimulatorBackend(), file: file)
        let first = try await recorder.infer(request(.text("one")))
        let second = try await recorder.infer(request(.text("two")))
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains("\"hash\"") && lines[0].contains("\"answer\""))

        let replay = try ReplayBackend(file: file)
        let again = try await replay.infer(request(.text("two")))
        #expect(again.text == second.text && again.usage == second.usage && again.backend == "replay")
        #expect(again.cost == nil)
        #expect(try await replay.infer(request(.text("one"))).text == first.text)
        do {
            _ = try await replay.infer(request(.text("three")))
            Issue.record("no error")
        } catch let e as BackendError {
            #expect(e.kind == .notRecorded)
            #expect(e.message.contains("\"three\"") && e.message.contains(file.path))
        }
        try "not json\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: BackendError.self) { try ReplayBackend(file: file) }
    }

    @Test func backendSelection() throws {
        let config = Configuration()
        let models = ModelSettings()
        #expect(try BackendSelection().make(configuration: config, models: models, environment: [:]).name == "simulate")
        #expect(try BackendSelection().make(configuration: config, models: models, environment: ["OMEGA_BACKEND": "openai"]).name == "openai")
        #expect(try BackendSelection(name: "ollama").make(configuration: config, models: models, environment: ["OMEGA_BACKEND": "openai"]).name == "ollama")
        #expect(throws: ConfigError.self) { try BackendSelection(name: "nope").make(configuration: config, models: models, environment: [:]) }
        #expect(throws: ConfigError.self) { try BackendSelection(name: "replay").make(configuration: config, models: models, environment: [:]) }
    }

    /// The simulator honours max-tokens exactly, also when counts are
    /// estimates (no rank files: characters ÷ 4 moves in steps).
    @Test(arguments: [true, false]) func simulatorNeverExceedsMaxTokens(withRankFiles: Bool) throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("omega-norank-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let counter = withRankFiles ? TokenCounter()
            : TokenCounter(files: RankFiles(environment: ["HOME": empty.path, "TMPDIR": empty.path]))
        let simulator = SimulatorBackend(tokens: counter)
        var over = 0
        for i in 0..<1500 {
            let r = try simulator.answer(request(.text("prompt \(i) about things"), maxTokens: i % 40 + 1), started: Date())
            if r.usage.outputTokens > i % 40 + 1 { over += 1 }
            #expect(r.usage.outputTokens >= 1 || r.text.isEmpty)
        }
        #expect(over == 0)
        if !withRankFiles { #expect(!counter.count("x", model: "gpt-4o").exact) }
    }
}
