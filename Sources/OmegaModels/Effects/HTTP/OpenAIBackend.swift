import Foundation
import OmegaCore

/// Chat Completions against OpenAI or any compatible server (Groq, vLLM,
/// llama.cpp, Ollama's /v1). `OPENAI_BASE_URL` ends in `/v1` as the OpenAI
/// SDKs expect; `OPENAI_API_KEY` is sent as a bearer token when set.
///
/// Usage comes from the response's `usage` (cached prompt tokens and
/// reasoning tokens included). When a server sends none — llama.cpp never
/// does when streaming — or a stream is cut, the prompt and the received
/// text are counted locally and the numbers marked `counted`, never zero.
public struct OpenAIBackend: ModelBackend {
    public let name = "openai"
    /// The API's address, ending in `/v1`.
    public var baseURL: String
    var apiKey: String?
    /// Stream answers (`stream: true` with `include_usage`).
    public var stream: Bool
    let tokens: TokenCounter
    var transport: HTTPTransport

    /// A backend for Chat Completions at `baseURL`, counting locally with `tokens` when usage is missing.
    public init(baseURL: String, apiKey: String?, stream: Bool = false, tokens: TokenCounter = TokenCounter()) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.stream = stream
        self.tokens = tokens
        transport = HTTPTransport(secrets: [apiKey].compactMap { $0 })
    }

    /// The request body as Chat Completions wants it.
    func body(_ r: InferenceRequest, stream: Bool) -> Data {
        var body = OpenAIWire.Request(model: r.model, messages: r.messages.map { .init(role: $0.role, content: $0.content, name: $0.name) })
        // OpenAI's reasoning models take max_completion_tokens; everything
        // else (and every compatible server) knows max_tokens.
        let base = ModelEncodings.baseName(r.model)
        if base.hasPrefix("o1") || base.hasPrefix("o3") || base.hasPrefix("o4") || base.hasPrefix("gpt-5") {
            body.maxCompletionTokens = r.maxTokens
        } else {
            body.maxTokens = r.maxTokens
        }
        body.temperature = r.temperature
        if !r.stop.isEmpty { body.stop = r.stop }
        if stream {
            body.stream = true
            body.streamOptions = .init()
        }
        return WireBody(fields: body, extra: r.providerFields).data()
    }

    var headers: [(String, String)] {
        apiKey.map { [("authorization", "Bearer \($0)")] } ?? []
    }

    public func infer(_ request: InferenceRequest) async throws -> InferenceResult {
        let started = Date()
        let wantsStream = request.stream ?? stream
        let url = baseURL + "/chat/completions"
        if wantsStream { return try await streamed(request, url: url, started: started) }
        let data = try await transport.postJSON(url, headers: headers, body: body(request, stream: false),
                                                timeout: request.timeout) { _, d in JSON.errorText(d) }
        return try decode(data, request, started: started)
    }

    /// A chat completion's body as a result (no network: also what the fuzzer feeds).
    func decode(_ data: Data, _ request: InferenceRequest, started: Date) throws -> InferenceResult {
        guard let reply = decodeWire(OpenAIWire.Reply.self, data), let first = reply.choices?.first else {
            throw BackendError(.badResponse, "the server's answer is not a chat completion: \(JSON.errorText(data))")
        }
        return finishResult(request, text: first.message?.content ?? "", finish: first.finishReason ?? "stop",
                            usage: reply.usage, answeredBy: reply.model, started: started)
    }

    /// What a stream has delivered so far, fed one server-sent-events line at a time.
    struct StreamState {
        var text = ""
        var finish: String?
        var usage: OpenAIWire.Usage?
        var answeredBy: String?
        var sawDone = false

        mutating func feed(_ line: String) throws {
            guard line.hasPrefix("data:") else { return }
            let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
            if payload == "[DONE]" { sawDone = true; return }
            guard let chunk = decodeWire(OpenAIWire.Reply.self, Data(payload.utf8)) else { return }
            if chunk.error != nil { throw BackendError(.server, "error in the stream: \(JSON.errorText(Data(payload.utf8)))") }
            answeredBy = answeredBy ?? chunk.model
            if let u = chunk.usage { usage = u }
            if let c = chunk.choices?.first {
                if let piece = c.delta?.content { text += piece }
                if let f = c.finishReason { finish = f }
            }
        }
    }

    private func streamed(_ request: InferenceRequest, url: String, started: Date) async throws -> InferenceResult {
        var state = StreamState()
        do {
            try await transport.postStreaming(url, headers: headers, body: body(request, stream: true),
                                              timeout: request.timeout, describeError: { _, d in JSON.errorText(d) }) { line in
                try state.feed(line)
            }
        } catch var e as BackendError where e.kind == .cutStream {
            e.billed = countedUsage(request, text: state.text)
            throw e
        }
        return try finishStream(state, request, started: started)
    }

    /// The result of a finished stream, or a cut-stream error when it never said it was done.
    func finishStream(_ state: StreamState, _ request: InferenceRequest, started: Date) throws -> InferenceResult {
        if !state.sawDone && state.finish == nil {
            var e = BackendError(.cutStream, "the stream ended before the answer was complete")
            e.billed = countedUsage(request, text: state.text)
            throw e
        }
        return finishResult(request, text: state.text, finish: state.finish ?? "stop", usage: state.usage,
                            answeredBy: state.answeredBy, started: started)
    }

    func countedUsage(_ request: InferenceRequest, text: String) -> TokenUsage {
        TokenUsage(inputTokens: request.promptTokens.tokens, outputTokens: tokens.count(text, model: request.model).tokens)
    }

    func finishResult(_ request: InferenceRequest, text: String, finish: String, usage: OpenAIWire.Usage?,
                      answeredBy: String?, started: Date) -> InferenceResult {
        var tokenUsage: TokenUsage
        var source = UsageSource.reported
        if let u = usage, let input = u.promptTokens, let output = u.completionTokens {
            tokenUsage = TokenUsage(inputTokens: input, outputTokens: output, cacheReadTokens: u.cachedTokens,
                                    reasoningTokens: u.reasoningTokens)
        } else {
            tokenUsage = countedUsage(request, text: text)
            let exact = request.promptTokens.exact && tokens.count("", model: request.model).exact
            source = exact ? .counted : .estimated
        }
        if tokenUsage.inputTokens == 0 && tokenUsage.outputTokens == 0 && !text.isEmpty {
            tokenUsage = countedUsage(request, text: text)
            source = .counted
        }
        return InferenceResult(text: text, model: answeredBy ?? request.model, finishReason: finish, usage: tokenUsage,
                               usageSource: source, latency: Date().timeIntervalSince(started),
                               backend: name, requestID: request.id)
    }
}
