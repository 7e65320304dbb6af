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
    public var baseURL: String
    var apiKey: String?
    /// Stream answers (`stream: true` with `include_usage`).
    public var stream: Bool
    let tokens: TokenCounter
    var transport: HTTPTransport

    public init(baseURL: String, apiKey: String?, stream: Bool = false, tokens: TokenCounter = TokenCounter()) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.stream = stream
        self.tokens = tokens
        transport = HTTPTransport(secrets: [apiKey].compactMap { $0 })
    }

    /// The request body as Chat Completions wants it.
    func body(_ r: InferenceRequest, stream: Bool) -> [String: Any] {
        var body: [String: Any] = [
            "model": r.model,
            "messages": r.messages.map { m -> [String: String] in
                var o = ["role": m.role, "content": m.content]
                if let n = m.name { o["name"] = n }
                return o
            },
        ]
        // OpenAI's reasoning models take max_completion_tokens; everything
        // else (and every compatible server) knows max_tokens.
        let base = ModelEncodings.baseName(r.model)
        if base.hasPrefix("o1") || base.hasPrefix("o3") || base.hasPrefix("o4") || base.hasPrefix("gpt-5") {
            body["max_completion_tokens"] = r.maxTokens
        } else {
            body["max_tokens"] = r.maxTokens
        }
        if let t = r.temperature { body["temperature"] = t }
        if !r.stop.isEmpty { body["stop"] = r.stop }
        if stream {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        return body
    }

    var headers: [(String, String)] {
        apiKey.map { [("authorization", "Bearer \($0)")] } ?? []
    }

    public func infer(_ request: InferenceRequest) async throws -> InferenceResult {
        let started = Date()
        let wantsStream = request.stream ?? stream
        let url = baseURL + "/chat/completions"
        if wantsStream { return try await streamed(request, url: url, started: started) }
        let data = try await transport.postJSON(url, headers: headers, body: JSON.encode(body(request, stream: false)),
                                                timeout: request.timeout) { _, d in JSON.errorText(d) }
        return try decode(data, request, started: started)
    }

    /// A chat completion's body as a result (no network: also what the fuzzer feeds).
    func decode(_ data: Data, _ request: InferenceRequest, started: Date) throws -> InferenceResult {
        guard let o = JSON.object(data), let choices = o["choices"] as? [[String: Any]], let first = choices.first else {
            throw BackendError(.badResponse, "the server's answer is not a chat completion: \(JSON.errorText(data))")
        }
        let message = first["message"] as? [String: Any]
        let text = (message?["content"] as? String) ?? ""
        let finish = (first["finish_reason"] as? String) ?? "stop"
        return finishResult(request, text: text, finish: finish, usage: o["usage"] as? [String: Any],
                            answeredBy: o["model"] as? String, started: started)
    }

    /// What a stream has delivered so far, fed one server-sent-events line at a time.
    struct StreamState {
        var text = ""
        var finish: String?
        var usage: [String: Any]?
        var answeredBy: String?
        var sawDone = false

        mutating func feed(_ line: String) throws {
            guard line.hasPrefix("data:") else { return }
            let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
            if payload == "[DONE]" { sawDone = true; return }
            guard let o = JSON.object(payload) else { return }
            if let e = o["error"] { throw BackendError(.server, "error in the stream: \(JSON.errorText(JSON.encode(["error": e])))") }
            answeredBy = answeredBy ?? o["model"] as? String
            if let u = o["usage"] as? [String: Any] { usage = u }
            if let choices = o["choices"] as? [[String: Any]], let c = choices.first {
                if let delta = c["delta"] as? [String: Any], let piece = delta["content"] as? String { text += piece }
                if let f = c["finish_reason"] as? String { finish = f }
            }
        }
    }

    private func streamed(_ request: InferenceRequest, url: String, started: Date) async throws -> InferenceResult {
        var state = StreamState()
        do {
            try await transport.postStreaming(url, headers: headers, body: JSON.encode(body(request, stream: true)),
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

    func finishResult(_ request: InferenceRequest, text: String, finish: String, usage: [String: Any]?,
                      answeredBy: String?, started: Date) -> InferenceResult {
        var tokenUsage: TokenUsage
        var source = UsageSource.reported
        if let u = usage, let input = JSON.int(u["prompt_tokens"]), let output = JSON.int(u["completion_tokens"]) {
            let cached = JSON.int((u["prompt_tokens_details"] as? [String: Any])?["cached_tokens"]) ?? 0
            let reasoning = JSON.int((u["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"]) ?? 0
            tokenUsage = TokenUsage(inputTokens: input, outputTokens: output, cacheReadTokens: cached, reasoningTokens: reasoning)
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
