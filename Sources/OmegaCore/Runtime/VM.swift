import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The virtual machine: an explicit value stack and the registers that run
/// compiled templates (instruction set and frame layout: see `Opcode`).
///
/// All machine state is data in this object — nothing lives on the Swift
/// stack between instructions — so recursion depth is bounded by the
/// configured stack size, not by the thread, and a running evaluation can be
/// stopped at a safe point (step limit, interrupt) with its state intact.
package final class VM {
    /// The interpreter that owns this machine (and outlives it): held
    /// without reference counting, which cost a strong retain and release
    /// per primitive call.
    unowned(unsafe) let interp: Interpreter
    /// The interpreter's heap, held directly: reaching it through the
    /// unowned `interp` costs a strong retain per allocation.
    let heap: Heap

    // The value stack.
    private(set) var stack: UnsafeMutablePointer<Value>
    /// The slots the program may use now: at most `allocated`, and over the
    /// stack's limit only while a stack overflow is being handled.
    private(set) var capacity: Int
    /// The slots the stack's memory holds.
    private var allocated: Int
    /// The stack of a VM that got no memory for one (capacity 0).
    nonisolated(unsafe) private static let noStack = UnsafeMutablePointer<Value>.allocate(capacity: 8)
    /// The most slots the stack may grow to (configurable).
    var maxCapacity: Int

    // Registers while not running (the run loop keeps them in locals).
    var sp = 0
    var fp = 0
    var pc: UnsafeMutablePointer<UInt32>
    var closure: Value
    var acc: Value = .unspecified

    /// Set once any global holding an inlinable built-in (`+`, `car`, …) is
    /// redefined; inlined instructions then check their cell every time.
    var integrablesRedefined = false
    /// The frame of the primitive being called (-1 when none), so that a
    /// `raise-continuable` inside it can return from that call. (A property,
    /// not a local of `execute`: one register fewer in the dispatch loop.)
    private var primitiveFP = -1

    /// Calls left until the next safe point.
    private var fuel = 0
    /// Calls between safe points.
    var fuelSlice: Int { gcStress ? 50 : 4096 }
    /// Collect at every safe point (testing).
    var gcStress = false
    /// Procedure calls allowed per evaluation (nil: unlimited).
    var stepLimit: Int?
    /// Calls made by the current top-level evaluation.
    private(set) var stepsUsed = 0
    /// Seconds a top-level evaluation may run (nil: no limit), and when the current one must end.
    var timeLimit: Double?
    private var deadline: ContinuousClock.Instant?
    /// The deadline of a top-level form whose compilation has begun: its
    /// run keeps it, so the time limit covers macro expansion and run together.
    private var pendingDeadline: ContinuousClock.Instant?
    /// Set from any thread (e.g. a Ctrl-C handler) to stop the evaluation.
    package let interrupts = InterruptSwitch()

    /// One-instruction buffer for entering a call from Swift.
    private let stub: UnsafeMutablePointer<UInt32>
    /// A one-instruction `HALT` that host calls return to.
    private let haltCode: UnsafeMutablePointer<UInt32>
    /// The closure in effect when no Scheme code is running.
    private let rootClosure: Value
    /// Stack index where each active run (nested `apply` from Swift) began.
    private(set) var runBases: [Int] = []
    /// Nesting of `apply` calls from Swift.
    var runDepth: Int { runBases.count }

    /// The installed exception handlers, innermost first (a Scheme list).
    var handlers: Value = .null
    /// The active `dynamic-wind` entries, innermost first: a list of
    /// (before . after) pairs.
    var winders: Value = .null
    /// The Scheme procedures that call the installed handlers (stdlib's
    /// `%raise` and `%raise-continuable`); errors raised by built-ins and
    /// `raise` go to them when a handler is installed.
    var raiseProcedure: Value = .unspecified
    var raiseContinuableProcedure: Value = .unspecified

    /// Extra stack granted while a stack-overflow error is being handled.
    private var overflowReserve = 0

    /// Where the latest tail call was made: a tail call leaves no frame
    /// behind, so this is how a library procedure (`effect`) that was
    /// tail-called finds the user's call (`callSite()`). Written through a
    /// pointer: a plain store in the dispatch loop, no access checks.
    struct TailSite {
        var pc: UnsafeMutablePointer<UInt32>?
        /// The caller, and the procedure it called.
        var closure: Value
        var callee: Value
        /// The frame the callee took over, and its return address.
        var fp: Int
        var returnTo: Value
    }
    private let tailSite: UnsafeMutablePointer<TailSite>

    init(interp: Interpreter, initialCapacity: Int = 1 << 14, maxCapacity: Int) {
        self.interp = interp
        heap = interp.heap
        capacity = initialCapacity
        allocated = initialCapacity
        self.maxCapacity = max(maxCapacity, initialCapacity)
        // malloc'd, not Swift-allocated: the stack grows with realloc. Slots
        // above `sp` are never read, so new ones are left untouched (a deep
        // recursion costs the memory it uses, not the capacity it reached).
        // Without memory for it, the stack starts empty and the first call
        // that needs room reports a stack overflow.
        let memory = malloc(initialCapacity * MemoryLayout<Value>.stride)
        if memory == nil { capacity = 0; allocated = 0 }
        stack = memory?.bindMemory(to: Value.self, capacity: initialCapacity) ?? VM.noStack
        stub = .allocate(capacity: 2)
        stub.initialize(repeating: instruction(.halt), count: 2)
        haltCode = .allocate(capacity: 1)
        haltCode.initialize(to: instruction(.halt))
        tailSite = .allocate(capacity: 1)
        tailSite.initialize(to: TailSite(pc: nil, closure: .unspecified, callee: .unspecified, fp: -1, returnTo: .unspecified))

        let t = Template(code: [instruction(.halt)], constants: [], requiredCount: 0, hasRest: false,
                         frameSize: 0, maxStack: 0, name: "", locations: [], location: .none)
        heap.register(t)
        rootClosure = Value(object: heap.register(Closure(template: t, freeCount: 0)))
        closure = rootClosure
        pc = haltCode
    }

    deinit {
        if allocated > 0 { free(stack) }
        stub.deallocate()
        haltCode.deallocate()
        tailSite.deallocate()

    }

    /// Reports the live part of the stack and the registers to the collector.
    func trace(_ marker: inout Marker) {
        for i in 0..<sp { marker.mark(stack[i]) }
        marker.mark(acc)
        marker.mark(closure)
        marker.mark(rootClosure)
        marker.mark(tailSite.pointee.closure)
        marker.mark(tailSite.pointee.callee)
        marker.mark(handlers)
        marker.mark(winders)
        marker.mark(raiseProcedure)
        marker.mark(raiseContinuableProcedure)
    }

    // MARK: Entry from Swift

    /// Calls a procedure with arguments and runs until it returns.
    ///
    /// May be nested (a primitive calling back into Scheme). On an uncaught
    /// error the machine is unwound to where this call started.
    func apply(_ proc: Value, _ args: [Value]) throws -> Value {
        let saved = (sp: sp, fp: fp, closure: closure, pc: pc, acc: acc)
        try ensureCapacity(sp + args.count + 8)
        stack[sp] = encode(pc: haltCode)
        stack[sp + 1] = Value(fixnum: fp)
        stack[sp + 2] = closure
        sp += 3
        for a in args { stack[sp] = a; sp += 1 }
        acc = proc
        stub[0] = instruction(.call, args.count)
        pc = stub
        if runDepth == 0 {
            stepsUsed = 0; fuel = fuelSlice
            if overflowReserve > 0 { endOverflowReserve() }
            deadline = pendingDeadline ?? timeLimit.map { ContinuousClock.now + .seconds($0) }
            pendingDeadline = nil
        }
        runBases.append(saved.sp)
        defer { runBases.removeLast() }
        let savedDynamic = (handlers, winders)
        do {
            let result = try execute()
            (sp, fp, closure, pc, acc) = saved
            return result
        } catch let jump as ContinuationJump where runDepth == 1 {
            (sp, fp, closure, pc, acc) = saved
            (handlers, winders) = savedDynamic
            _ = jump
            throw SchemeError(.error, "a continuation was invoked after the evaluation that captured it had ended")
        } catch {
            (sp, fp, closure, pc, acc) = saved
            // An error unwinds the dynamic state too; a continuation jump
            // carries its own (its escape procedure rewound it).
            if !(error is ContinuationJump) { (handlers, winders) = savedDynamic }
            throw error
        }
    }

    // MARK: Helpers

    @inline(__always) private func encode(pc: UnsafeMutablePointer<UInt32>) -> Value {
        Value(raw: UInt64(UInt(bitPattern: pc)) | 1)
    }

    @inline(__always) private func decodePC(_ v: Value) -> UnsafeMutablePointer<UInt32> {
        UnsafeMutablePointer<UInt32>(bitPattern: UInt(v.raw & ~1)).unsafelyUnwrapped
    }

    /// Grows the stack so that `needed` slots fit, or raises a stack overflow.
    /// The stack counts against the memory limit too: it may take what the
    /// data the last collection found live leaves of it (so a deep recursion
    /// under `--memory-limit 64M` stops near 64 MB, not at the stack limit).
    private func ensureCapacity(_ needed: Int) throws {
        if needed <= capacity { return }
        let limit = stackLimit
        guard needed <= limit + overflowReserve else {
            if limit < maxCapacity {
                throw SchemeError(.stackOverflow,
                    "stack overflow: recursion too deep for the memory limit (a stack of \(needed) slots, \(SchemeError.size(needed * MemoryLayout<Value>.stride)), and the program's data must fit in \(SchemeError.size(heap.limit)): the memoryLimit option, --memory-limit or [limits] memory)")
            }
            throw SchemeError(.stackOverflow,
                "stack overflow: recursion too deep (the stack limit is \(maxCapacity) slots; raise it with the interpreter's stackLimit option)")
        }
        if needed <= allocated {
            capacity = min(allocated, limit + overflowReserve)
            return
        }
        var newCapacity = max(allocated, 1 << 10)
        while newCapacity < needed { newCapacity *= 2 }
        newCapacity = min(newCapacity, limit + overflowReserve)
        // realloc moves a large stack by remapping its pages, not copying them.
        guard let grown = realloc(allocated > 0 ? UnsafeMutableRawPointer(stack) : nil, newCapacity * MemoryLayout<Value>.stride) else {
            throw SchemeError(.stackOverflow, "stack overflow: no memory for a stack of \(newCapacity) slots")
        }
        stack = grown.bindMemory(to: Value.self, capacity: newCapacity)
        allocated = newCapacity
        capacity = newCapacity
    }

    /// The most slots the stack may take (its reserve aside): the stack
    /// limit, or what the memory limit leaves beside the live data.
    private var stackLimit: Int {
        let slotsInMemory = max(1 << 14, (heap.limit &- heap.liveBytes) / MemoryLayout<Value>.stride)
        return min(maxCapacity, slotsInMemory)
    }

    /// The handled stack overflow is over: the reserve goes back, and with
    /// it the slots over the limit (or the next overflow, finding them
    /// taken, would leave its handler no room and go uncaught).
    private func endOverflowReserve() {
        overflowReserve = 0
        capacity = min(capacity, stackLimit)
    }

    /// Makes the next procedure call run the safe point's checks.
    func requestSafePoint() { fuel = 0 }

    // MARK: Compilation

    /// Starts the clock of a top-level form before it is compiled (nothing
    /// runs yet at run depth 0); `compilationFailed` stops it again.
    func compilationStarts() {
        guard runDepth == 0 else { return }
        pendingDeadline = timeLimit.map { ContinuousClock.now + .seconds($0) }
    }

    /// A form that failed to compile will not run: its clock stops.
    func compilationFailed() {
        if runDepth == 0 { pendingDeadline = nil }
    }

    /// The checks of a safe point the compiler makes now and then while it
    /// expands (macro expansion can loop or grow without a procedure call):
    /// an interrupt and the time limit. Memory is the expander's to check.
    func compilerSafePoint() throws {
        if interrupts.requested.exchange(false, ordering: .relaxed) {
            throw SchemeError(.interrupted, "interrupted")
        }
        if let d = runDepth == 0 ? pendingDeadline : deadline, ContinuousClock.now > d {
            throw SchemeError(.stepLimit, "time limit exceeded: the evaluation ran more than \(timeLimit ?? 0) s (while its code was being expanded)")
        }
    }

    /// Runs the checks that are too costly for every call: collection,
    /// interrupts, the step limit.
    private func safePoint() throws {
        fuel = fuelSlice
        if overflowReserve > 0 && sp < maxCapacity / 2 { endOverflowReserve() }
        if heap.wantsCollection || gcStress {
            interp.collectGarbage()
            try heap.checkLimit()
        }
        if interrupts.requested.exchange(false, ordering: .relaxed) {
            throw SchemeError(.interrupted, "interrupted")
        }
        stepsUsed += fuelSlice
        if let limit = stepLimit, stepsUsed > limit {
            throw SchemeError(.stepLimit, "step limit exceeded: more than \(limit) procedure calls")
        }
        if let d = deadline, ContinuousClock.now > d {
            throw SchemeError(.stepLimit, "time limit exceeded: the evaluation ran more than \(timeLimit ?? 0) s")
        }
    }

    /// Calls a primitive on `argc` arguments stored from `base`. The
    /// primitive is borrowed (the caller's value keeps it alive), not retained.
    @inline(__always)
    private func callPrimitive(_ callee: Value, _ base: UnsafeMutablePointer<Value>, _ argc: Int) throws -> Value {
        try Unmanaged<Primitive>.fromOpaque(callee.objectPointer)._withUnsafeGuaranteedRef { p in
            try callPrimitive(p, base, argc)
        }
    }

    @inline(__always)
    private func callPrimitive(_ p: Primitive, _ base: UnsafeMutablePointer<Value>, _ argc: Int) throws -> Value {
        guard argc >= p.minArgs && (p.maxArgs < 0 || argc <= p.maxArgs) else {
            var e = SchemeError(.arity, "expected \(p.arityDescription) argument\(p.maxArgs == 1 && p.minArgs == 1 ? "" : "s"), got \(argc)")
            e.procedure = p.name
            throw e
        }
        do {
            switch p.body {
            case .fixed0(let f): return try f(interp)
            case .fixed1(let f): return try f(interp, base[0])
            case .fixed2(let f): return try f(interp, base[0], base[1])
            case .fixed3(let f): return try f(interp, base[0], base[1], base[2])
            case .variadic(let f): return try f(interp, Arguments(base: base, count: argc))
            case .control:
                throw SchemeError(.error, "cannot be called from here")
            }
        } catch var e as SchemeError {
            if e.procedure == nil && !e.isFinal { e.procedure = p.name }
            throw e
        } catch let jump as ContinuationJump {
            throw jump
        } catch let e as OmegaError {
            // A host procedure that called back into Scheme and failed.
            var s = SchemeError(.error, e.message)
            s.procedure = p.name
            throw s
        } catch {
            var s = SchemeError(.error, "\(error)")
            s.procedure = p.name
            throw s
        }
    }

    // MARK: The run loop

    /// The free-variable values of the running closure: loaded where an
    /// instruction needs them rather than kept in a register of the loop.
    @inline(__always) private static func freeValues(_ closure: Value) -> UnsafeMutablePointer<Value> {
        Unmanaged<Closure>.fromOpaque(closure.objectPointer)._withUnsafeGuaranteedRef { $0.free }
    }

    /// Runs from the current registers until a `HALT` instruction.
    private func execute() throws -> Value {
        var pc = self.pc
        var sp = self.sp
        var fp = self.fp
        var acc = self.acc
        var closure = self.closure
        var stack = self.stack
        // Jumps are relative to the instruction after them, so the loop
        // keeps no code base: one register less to spill and reload at
        // every dispatch.
        var consts = Unmanaged<Closure>.fromOpaque(closure.objectPointer)._withUnsafeGuaranteedRef { $0.constants }
        // A nested run (a primitive calling Scheme) has a primitive frame of
        // its own; the outer run's is back when it returns.
        let outerPrimitiveFP = primitiveFP
        defer { primitiveFP = outerPrimitiveFP }
        primitiveFP = -1

        // `SAVE` below: store the registers so that Swift code (the
        // collector, error reports, nested runs) sees them. Written out
        // rather than as a local function, which would force the registers
        // out of machine registers.

        while true {
            let insn = pc.pointee
            pc += 1
            let a = Int(insn >> 8)
            do {
                switch unsafeBitCast(UInt8(truncatingIfNeeded: insn), to: Opcode.self) {
                case .halt:
                    self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
                    return acc

                case .const:
                    acc = consts[a]

                case .local:
                    acc = stack[fp &+ a]

                case .localBox:
                    acc = Unmanaged<Box>.fromOpaque(stack[fp &+ a].objectPointer)._withUnsafeGuaranteedRef { $0.value }

                case .free:
                    acc = VM.freeValues(closure)[a]

                case .freeBox:
                    acc = Unmanaged<Box>.fromOpaque(VM.freeValues(closure)[a].objectPointer)._withUnsafeGuaranteedRef { $0.value }

                case .localChecked:
                    acc = stack[fp &+ a]
                    if acc.raw == Value.undefined.raw { throw uninitialised(a, local: true, closure) }

                case .localBoxChecked:
                    acc = Unmanaged<Box>.fromOpaque(stack[fp &+ a].objectPointer)._withUnsafeGuaranteedRef { $0.value }
                    if acc.raw == Value.undefined.raw { throw uninitialised(a, local: true, closure) }

                case .freeBoxChecked:
                    acc = Unmanaged<Box>.fromOpaque(VM.freeValues(closure)[a].objectPointer)._withUnsafeGuaranteedRef { $0.value }
                    if acc.raw == Value.undefined.raw { throw uninitialised(a, local: false, closure) }

                case .global:
                    acc = try globalValue(consts[a])

                case .setLocal:
                    stack[fp &+ a] = acc

                case .setLocalBox:
                    Unmanaged<Box>.fromOpaque(stack[fp &+ a].objectPointer)._withUnsafeGuaranteedRef { $0.value = acc }

                case .setFreeBox:
                    Unmanaged<Box>.fromOpaque(VM.freeValues(closure)[a].objectPointer)._withUnsafeGuaranteedRef { $0.value = acc }

                case .setGlobal:
                    let cell = consts[a].unsafeObject(GlobalCell.self)
                    if cell.value.raw == Value.unbound.raw {
                        throw SchemeError(.unbound, "set!: unbound variable: \(cell.name.name)")
                    }
                    cell.value = acc
                    if cell.integrable.raw != Value.unbound.raw { integrablesRedefined = true }

                case .defineGlobal:
                    let cell = consts[a].unsafeObject(GlobalCell.self)
                    cell.value = acc
                    if cell.integrable.raw != Value.unbound.raw && cell.integrable.raw != acc.raw {
                        integrablesRedefined = true
                    }

                case .makeBox:
                    stack[fp &+ a] = Value(object: heap.register(Box(stack[fp &+ a])))

                case .push:
                    stack[sp] = acc
                    sp &+= 1

                case .pushLocal:
                    stack[sp] = stack[fp &+ a]
                    sp &+= 1

                case .pushLocal2:
                    stack[sp] = stack[fp &+ (a & 0xFFF)]
                    stack[sp &+ 1] = stack[fp &+ (a >> 12)]
                    sp &+= 2

                case .pushConst:
                    stack[sp] = consts[a]
                    sp &+= 1

                case .drop:
                    sp &-= a

                case .popLocal:
                    sp &-= 1
                    stack[fp &+ a] = stack[sp]

                case .loopJump:
                    fuel &-= 1
                    if fuel <= 0 {
                        self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
                        try safePoint()
                    }
                    pc += jumpOffset(insn)

                case .jump:
                    pc += jumpOffset(insn)

                case .jumpIfFalse:
                    if acc.raw == Value.false.raw { pc += jumpOffset(insn) }

                case .closure:
                    let template = consts[a].unsafeObject(Template.self)
                    let n = Int(pc.pointee)
                    let c = Closure(template: template, freeCount: n)
                    for i in 0..<n {
                        let d = pc[1 + i]
                        c.free[i] = d & (1 << 31) != 0 ? VM.freeValues(closure)[Int(d & 0x7FFF_FFFF)] : stack[fp &+ Int(d)]
                    }
                    pc += 1 + n
                    acc = Value(object: heap.register(c))

                case .frame:
                    stack[sp] = encode(pc: pc + jumpOffset(insn))
                    stack[sp &+ 1] = Value(fixnum: fp)
                    stack[sp &+ 2] = closure
                    sp += 3

                case .returnLocal:
                    acc = stack[fp &+ a]
                    fallthrough

                case .return:
                    (sp, pc, fp, closure, consts) = frameReturn(stack, fp)
                    pushIfPushNext(acc, &pc, stack, &sp)

                case .callGlobal, .tailCallGlobal:
                    acc = try globalValue(consts[a >> 8])
                    if UInt8(truncatingIfNeeded: insn) == Opcode.callGlobal.rawValue {
                        // The frame header goes below the arguments.
                        let base = sp &- (a & 0xFF)
                        var i = sp &- 1
                        while i >= base { stack[i &+ 3] = stack[i]; i &-= 1 }
                        stack[base] = encode(pc: pc)
                        stack[base &+ 1] = Value(fixnum: fp)
                        stack[base &+ 2] = closure
                        sp &+= 3
                    }
                    fallthrough

                case .call, .tailCall:
                    let op = UInt8(truncatingIfNeeded: insn)
                    let viaGlobal = op == Opcode.callGlobal.rawValue || op == Opcode.tailCallGlobal.rawValue
                    var argc = viaGlobal ? a & 0xFF : a
                    var newfp: Int
                    if op == Opcode.tailCall.rawValue || op == Opcode.tailCallGlobal.rawValue {
                        // Replace the current frame: move the arguments down to fp.
                        tailSite.pointee = TailSite(pc: pc - 1, closure: closure, callee: acc, fp: fp,
                                                    returnTo: fp >= 3 ? stack[fp &- 3] : .unspecified)
                        let from = sp &- argc
                        if from != fp {
                            for i in 0..<argc { stack[fp &+ i] = stack[from &+ i] }
                        }
                        sp = fp &+ argc
                        newfp = fp
                    } else {
                        newfp = sp &- argc
                    }
                    dispatch: while true {
                        guard acc.isOtherObject else { throw notAProcedure(acc) }
                        let kind = acc.withObject { $0.kind }
                        if kind == .closure {
                            let (req, rest, size, need) = Unmanaged<Closure>.fromOpaque(acc.objectPointer)
                                ._withUnsafeGuaranteedRef { ($0.requiredCount, $0.hasRest, $0.frameSize, $0.stackNeed) }
                            if argc != req || rest {
                                argc = try adjustArguments(acc, argc: argc, base: newfp, required: req, rest: rest)
                                stack = self.stack
                            }
                            if newfp &+ need > capacity {
                                self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
                                try ensureCapacity(newfp &+ need)
                                stack = self.stack
                            }
                            fp = newfp
                            var i = argc
                            while i < size { stack[fp &+ i] = .unspecified; i += 1 }
                            sp = fp &+ size
                            closure = acc
                            (pc, consts) = Unmanaged<Closure>.fromOpaque(closure.objectPointer)
                                ._withUnsafeGuaranteedRef { ($0.code, $0.constants) }
                            fuel &-= 1
                            if fuel <= 0 {
                                self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
                                try safePoint()
                            }
                            break dispatch
                        }
                        if kind == .primitive {
                            let control = Unmanaged<Primitive>.fromOpaque(acc.objectPointer)._withUnsafeGuaranteedRef { p -> ControlPrimitive? in
                                if case .control(let c) = p.body { return c } else { return nil }
                            }
                            if let control {
                                switch control {
                                case .apply:
                                    self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
                                    (acc, argc) = try spreadApplyArguments(base: newfp, argc: argc)
                                    stack = self.stack
                                    sp = newfp + argc
                                case .callcc:
                                    guard argc == 1 else {
                                        var e = SchemeError(.arity, "expected 1 argument, got \(argc)")
                                        e.procedure = "call/cc"
                                        throw e
                                    }
                                    let f = stack[newfp]
                                    let base = runBases.last ?? 0
                                    let k = Continuation(segment: Array(UnsafeBufferPointer(start: stack + base, count: newfp - base)),
                                                         base: base, resumeFP: newfp, depth: runDepth)
                                    stack[newfp] = Value(object: heap.register(k))
                                    acc = f
                                }
                                continue dispatch
                            }
                            self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
                            primitiveFP = newfp
                            acc = try callPrimitive(acc, stack + newfp, argc)
                            primitiveFP = -1
                            // The primitive may have run Scheme code (which can
                            // grow the stack) or redefined a built-in.
                            stack = self.stack
                            // Return to the frame below the arguments.
                            sp = newfp &- 3
                            pc = decodePC(stack[sp])
                            fp = stack[sp &+ 1].fixnum
                            closure = stack[sp &+ 2]
                            consts = Unmanaged<Closure>.fromOpaque(closure.objectPointer)
                                ._withUnsafeGuaranteedRef { $0.constants }
                            break dispatch
                        }
                        if kind == .continuation {
                            let k = acc.unsafeObject(Continuation.self)
                            let value: Value = argc == 1 ? stack[newfp]
                                : Value(object: heap.register(MultipleValues(Array(UnsafeBufferPointer(start: stack + newfp, count: argc)))))
                            guard k.depth == runDepth && k.base == runBases.last else {
                                throw ContinuationJump(continuation: k, value: value)
                            }
                            (sp, fp, pc, closure) = try reinstate(k)
                            stack = self.stack
                            acc = value
                            consts = Unmanaged<Closure>.fromOpaque(closure.objectPointer)
                                ._withUnsafeGuaranteedRef { $0.constants }
                            break dispatch
                        }
                        throw notAProcedure(acc)
                    }

                // MARK: Inlined primitives

                case .add:
                    if a > 0xFFFF { acc = stack[fp &+ (a >> 16) &- 1] }
                    let x = stack[sp &- 1]
                    if x.raw & acc.raw & 1 != 0 && !integrablesRedefined {
                        let (r, o) = Int64(bitPattern: x.raw).addingReportingOverflow(Int64(bitPattern: acc.raw) - 1)
                        if !o {
                            acc = Value(raw: UInt64(bitPattern: r))
                            sp &-= 1
                            // `(+ (f …) (g …))` as a procedure's value: return here.
                            if UInt8(truncatingIfNeeded: pc.pointee) == Opcode.return.rawValue {
                                (sp, pc, fp, closure, consts) = frameReturn(stack, fp)
                                pushIfPushNext(acc, &pc, stack, &sp)
                            }
                            continue
                        }
                    }
                    if x.isInWordFlonum && acc.isInWordFlonum && !integrablesRedefined,
                       let r = Value.inWordFlonum(x.inWordFlonum + acc.inWordFlonum) {
                        acc = r; sp &-= 1; continue
                    }
                    self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
                    (acc, sp, pc, stack) = try inlineSlowPath(.add, consts[a & 0xFFFF], acc: acc, sp: sp, fp: fp, closure: closure, pc: pc)

                case .sub:
                    if a > 0xFFFF { acc = stack[fp &+ (a >> 16) &- 1] }
                    let x = stack[sp &- 1]
                    if x.raw & acc.raw & 1 != 0 && !integrablesRedefined {
                        let (r, o) = Int64(bitPattern: x.raw).subtractingReportingOverflow(Int64(bitPattern: acc.raw) - 1)
                        if !o { acc = Value(raw: UInt64(bitPattern: r)); sp &-= 1; continue }
                    }
                    if x.isInWordFlonum && acc.isInWordFlonum && !integrablesRedefined,
                       let r = Value.inWordFlonum(x.inWordFlonum - acc.inWordFlonum) {
                        acc = r; sp &-= 1; continue
                    }
                    self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
                    (acc, sp, pc, stack) = try inlineSlowPath(.sub, consts[a & 0xFFFF], acc: acc, sp: sp, fp: fp, closure: closure, pc: pc)

                case .car:
                    if a > 0xFFFF { acc = stack[fp &+ (a >> 16) &- 1] }
                    if acc.isPair && !integrablesRedefined { acc = acc.car; continue }
                    self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
                    (acc, sp, pc, stack) = try inlineSlowPath(.car, consts[a & 0xFFFF], acc: acc, sp: sp, fp: fp, closure: closure, pc: pc)

                case .cdr:
                    if a > 0xFFFF { acc = stack[fp &+ (a >> 16) &- 1] }
                    if acc.isPair && !integrablesRedefined { acc = acc.cdr; continue }
                    self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
                    (acc, sp, pc, stack) = try inlineSlowPath(.cdr, consts[a & 0xFFFF], acc: acc, sp: sp, fp: fp, closure: closure, pc: pc)

                case .addImm:
                    if a > 0xFFFF { acc = stack[fp &+ (a >> 16) &- 1] }
                    let imm = Int64(Int32(bitPattern: pc.pointee))
                    if acc.isFixnum && !integrablesRedefined {
                        let (r, o) = Int64(bitPattern: acc.raw).addingReportingOverflow(imm << 1)
                        if !o { acc = Value(raw: UInt64(bitPattern: r)); pc += 1; continue }
                    }
                    (acc, sp, pc, stack) = try immediateSlowPath(.add, consts[a & 0xFFFF], acc: acc, sp: sp, fp: fp,
                                                                 closure: closure, pc: pc)

                case .subImm:
                    if a > 0xFFFF { acc = stack[fp &+ (a >> 16) &- 1] }
                    let imm = Int64(Int32(bitPattern: pc.pointee))
                    if acc.isFixnum && !integrablesRedefined {
                        let (r, o) = Int64(bitPattern: acc.raw).subtractingReportingOverflow(imm << 1)
                        if !o { acc = Value(raw: UInt64(bitPattern: r)); pc += 1; continue }
                    }
                    (acc, sp, pc, stack) = try immediateSlowPath(.sub, consts[a & 0xFFFF], acc: acc, sp: sp, fp: fp,
                                                                 closure: closure, pc: pc)

                case .addImmPush, .subImmPush:
                    if a > 0xFFFF { acc = stack[fp &+ (a >> 16) &- 1] }
                    let imm = Int64(Int32(bitPattern: pc.pointee)) << 1
                    let isSub = UInt8(truncatingIfNeeded: insn) == Opcode.subImmPush.rawValue
                    if acc.isFixnum && !integrablesRedefined {
                        let (r, o) = isSub ? Int64(bitPattern: acc.raw).subtractingReportingOverflow(imm)
                                           : Int64(bitPattern: acc.raw).addingReportingOverflow(imm)
                        if !o {
                            stack[sp] = Value(raw: UInt64(bitPattern: r))
                            sp &+= 1
                            pc += 2
                            continue
                        }
                    }
                    // Computed (or called) as the unfused form; its PUSH follows.
                    (acc, sp, pc, stack) = try immediateSlowPath(isSub ? .sub : .add, consts[a & 0xFFFF], acc: acc, sp: sp, fp: fp,
                                                                 closure: closure, pc: pc)

                case .ltImm, .leImm, .gtImm, .geImm, .numEqImm:
                    if a > 0xFFFF { acc = stack[fp &+ (a >> 16) &- 1] }
                    if acc.isFixnum && !integrablesRedefined {
                        let r = fixnumTest(unsafeBitCast(UInt8(truncatingIfNeeded: insn), to: Opcode.self),
                                           Int64(bitPattern: acc.raw) >> 1, Int64(Int32(bitPattern: pc.pointee)))
                        // A comparison is almost always an `if`'s test.
                        (acc, pc) = afterTest(r, pc + 1, stack, &sp, &fp, &closure, &consts)
                        continue
                    }
                    let op = unsafeBitCast(UInt8(truncatingIfNeeded: insn), to: Opcode.self).withoutImmediate ?? .numEq
                    (acc, sp, pc, stack) = try immediateSlowPath(op, consts[a & 0xFFFF], acc: acc, sp: sp, fp: fp,
                                                                 closure: closure, pc: pc)

                case .compareLocals:
                    let x = stack[fp &+ (a & 0xFF)], y = stack[fp &+ ((a >> 8) & 0xFF)]
                    let op = unsafeBitCast(UInt8(truncatingIfNeeded: a >> 16), to: Opcode.self)
                    if !integrablesRedefined && (x.raw & y.raw & 1 != 0 || op == .eq) {
                        // Tagged fixnums compare as their words.
                        let r = fixnumTest(op, Int64(bitPattern: x.raw), Int64(bitPattern: y.raw))
                        (acc, pc) = afterTest(r, pc + 1, stack, &sp, &fp, &closure, &consts)
                        continue
                    }
                    // As the plain form: x pushed, y in acc.
                    stack[sp] = x
                    sp &+= 1
                    acc = y
                    self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
                    (acc, sp, pc, stack) = try inlineSlowPath(op, consts[Int(pc.pointee)], acc: acc, sp: sp, fp: fp,
                                                              closure: closure, pc: pc + 1)

                // Tests, in the loop: comparisons of fixnums, eq?, not, null?
                // and pair?, with the branch of an `if` taken here.
                case .numEq, .lt, .le, .gt, .ge, .eq, .not, .isNull, .isPair:
                    if a > 0xFFFF { acc = stack[fp &+ (a >> 16) &- 1] }
                    if !integrablesRedefined {
                        let op = unsafeBitCast(UInt8(truncatingIfNeeded: insn), to: Opcode.self)
                        var r = false, decided = true
                        switch op {
                        case .not: r = acc.raw == Value.false.raw
                        case .isNull: r = acc.raw == Value.null.raw
                        case .isPair: r = acc.isPair
                        default:
                            let x = stack[sp &- 1]
                            // Tagged fixnums compare as their words.
                            let xi = Int64(bitPattern: x.raw), yi = Int64(bitPattern: acc.raw)
                            if op == .eq || x.raw & acc.raw & 1 != 0 {
                                r = fixnumTest(op, xi, yi)
                            } else {
                                decided = false
                            }
                            if decided { sp &-= 1 }
                        }
                        if decided {
                            (acc, pc) = afterTest(r, pc, stack, &sp, &fp, &closure, &consts)
                            continue
                        }
                    }
                    fallthrough

                case .mul, .cons, .vectorRef, .isZero:
                    if a > 0xFFFF { acc = stack[fp &+ (a >> 16) &- 1] }
                    let op = unsafeBitCast(UInt8(truncatingIfNeeded: insn), to: Opcode.self)
                    let binary = op.inlineArity == 2
                    if !integrablesRedefined, let r = fastInline(op, binary ? stack[sp &- 1] : acc, acc) {
                        acc = r
                        if binary { sp &-= 1 }
                        // A test followed by its `if`'s branch: taken here (see ltImm).
                        let next = pc.pointee
                        if UInt8(truncatingIfNeeded: next) == Opcode.jumpIfFalse.rawValue {
                            pc = r.raw == Value.false.raw ? pc + 1 + jumpOffset(next) : pc + 1
                        }
                        continue
                    }
                    self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
                    (acc, sp, pc, stack) = try inlineSlowPath(op, consts[a & 0xFFFF], acc: acc, sp: sp, fp: fp, closure: closure, pc: pc)
                }
            } catch let error as SchemeError {
                pc -= 1  // the failing instruction
                self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
                guard handlers.isPair && error.isCatchable && raiseProcedure.isProcedure
                        && raiseContinuableProcedure.isProcedure else {
                    throw interp.uncaught(error, vm: self)
                }
                // A handler is installed: pass the condition to it, as if the
                // failing instruction had called (raise condition). After a
                // continuable raise the handler's value is the value of the
                // call (or of the procedure, when it was a tail call).
                let condition = error.kind == .raise || error.kind == .raiseContinuable
                    ? error.payload : interp.errorObject(for: error, vm: self)
                if error.kind == .stackOverflow { overflowReserve = 1 << 16 }
                if error.kind == .outOfMemory {
                    // What filled the heap is likely garbage once handled: look again soon.
                    heap.forceCollection = true
                    fuel = 1
                }
                let callFrame = primitiveFP
                primitiveFP = -1
                try ensureCapacity(sp + 8)
                stack = self.stack
                if error.kind == .raiseContinuable && callFrame >= 3 {
                    // The handler takes the place of the raise-continuable call
                    // and returns through its frame.
                    stack[callFrame] = condition
                    sp = callFrame + 1
                    acc = raiseContinuableProcedure
                } else {
                    // Never returns normally: raise signals an error if the handler does.
                    stack[sp] = encode(pc: pc + 1)
                    stack[sp + 1] = Value(fixnum: fp)
                    stack[sp + 2] = closure
                    stack[sp + 3] = condition
                    sp += 4
                    acc = raiseProcedure
                }
                stub[0] = instruction(.call, 1)
                pc = stub
            } catch let jump as ContinuationJump {
                // A continuation of this run invoked from a nested run.
                guard jump.continuation.depth == runDepth && jump.continuation.base == runBases.last else { throw jump }
                (sp, fp, pc, closure) = try reinstate(jump.continuation)
                stack = self.stack
                acc = jump.value
                consts = Unmanaged<Closure>.fromOpaque(closure.objectPointer)
                    ._withUnsafeGuaranteedRef { $0.constants }
            }
        }
    }

    /// Inlined arithmetic and comparison on flonums (and a flonum with a
    /// fixnum that a double holds exactly), without the generic primitive's
    /// argument list and number tower: kept out of the dispatch loop, on the
    /// slow path that fixnum operations never reach.
    private func flonumInline(_ op: Opcode, _ x: Value, _ y: Value) -> Value? {
        @inline(__always) func double(_ v: Value) -> Double? {
            if v.isInWordFlonum { return v.inWordFlonum }
            if v.isFixnum {
                let n = v.fixnum
                return n.magnitude <= 1 << 53 ? Double(n) : nil
            }
            return v.isObject(of: .flonum) ? v.unsafeObject(Flonum.self).value : nil
        }
        @inline(__always) func isFlonum(_ v: Value) -> Bool { v.isInWordFlonum || v.isObject(of: .flonum) }
        if op == .isZero {
            guard isFlonum(y), let d = double(y) else { return nil }
            return Value(d == 0)
        }
        // One operand must be a flonum: two fixnums that got here overflowed.
        guard isFlonum(x) || isFlonum(y), let a = double(x), let b = double(y) else { return nil }
        switch op {
        case .add: return heap.flonum(a + b)
        case .sub: return heap.flonum(a - b)
        case .mul: return heap.flonum(a * b)
        case .numEq: return Value(a == b)
        case .lt: return Value(a < b)
        case .le: return Value(a <= b)
        case .gt: return Value(a > b)
        case .ge: return Value(a >= b)
        default: return nil
        }
    }

    /// Inlined arithmetic and comparison on exact integers when one is
    /// large (or two fixnums overflowed), and `+`, `-`, `*` with a non-real
    /// complex operand: the number tower's operations called directly,
    /// without the generic primitive's argument list, complex-number scan
    /// and fold (a third of `pi`'s time, as much of `mbrotZ`'s).
    private func numberInline(_ op: Opcode, _ x: Value, _ y: Value) -> Value? {
        if x.isObject(of: .compnum) || y.isObject(of: .compnum) {
            guard let a = Complex(x), let b = Complex(y) else { return nil }
            switch op {
            case .add: return heap.number(a + b)
            case .sub: return heap.number(a - b)
            case .mul: return heap.number(a * b)
            default: return nil
            }
        }
        guard x.isFixnum || x.isObject(of: .bignum), y.isFixnum || y.isObject(of: .bignum),
              let a = Num(x), let b = Num(y) else { return nil }
        switch op {
        case .add: return heap.number(Num.add(a, b))
        case .sub: return heap.number(Num.sub(a, b))
        case .mul: return heap.number(Num.mul(a, b))
        case .numEq, .lt, .le, .gt, .ge:
            guard let c = Num.compare(a, b) else { return nil }
            switch op {
            case .numEq: return Value(c == 0)
            case .lt: return Value(c < 0)
            case .le: return Value(c <= 0)
            case .gt: return Value(c > 0)
            default: return Value(c >= 0)
            }
        default: return nil
        }
    }

    /// A comparison of two fixnums (their tagged words compare as the
    /// integers do) or two in-word flonums; nil for other operands.
    @inline(__always)
    private func compare(_ x: Value, _ y: Value, _ fixnums: (Int64, Int64) -> Bool,
                         _ flonums: (Double, Double) -> Bool) -> Value? {
        if x.raw & y.raw & 1 != 0 { return Value(fixnums(Int64(bitPattern: x.raw), Int64(bitPattern: y.raw))) }
        return x.isInWordFlonum && y.isInWordFlonum ? Value(flonums(x.inWordFlonum, y.inWordFlonum)) : nil
    }

    /// The machine after a `RETURN` from the frame at `fp`: (sp, pc, fp,
    /// closure, constants) of the caller, from the frame header.
    @inline(__always)
    private func frameReturn(_ stack: UnsafeMutablePointer<Value>, _ fp: Int)
        -> (Int, UnsafeMutablePointer<UInt32>, Int, Value, UnsafeMutablePointer<Value>) {
        let sp = fp &- 3
        let closure = stack[sp &+ 2]
        let consts = Unmanaged<Closure>.fromOpaque(closure.objectPointer)._withUnsafeGuaranteedRef { $0.constants }
        return (sp, decodePC(stack[sp]), stack[sp &+ 1].fixnum, closure, consts)
    }

    /// After a return: when the caller's next instruction pushes the value
    /// (an argument of a call in progress, `(+ (f …) …)`), push it here and
    /// skip that `PUSH`, saving a dispatch — the VM's cost is its indirect
    /// jumps (a quarter of `fib`'s time is the one of the dispatch switch).
    @inline(__always)
    private func pushIfPushNext(_ value: Value, _ pc: inout UnsafeMutablePointer<UInt32>,
                                _ stack: UnsafeMutablePointer<Value>, _ sp: inout Int) {
        if pc.pointee == UInt32(Opcode.push.rawValue) {
            stack[sp] = value
            sp &+= 1
            pc += 1
        }
    }

    /// The value of a test that came out `r`, and where to go on: a plain
    /// `NOT` of it after the test is folded in (`(if (not (< y x)) …)`),
    /// and an `if`'s `JUMPIFFALSE` after that is taken here rather than
    /// dispatched. `next` is the word after the test. Only for tests done
    /// while no built-in is redefined, so `not` is the built-in.
    /// When the branch lands on `RETURNLOCAL` (a recursion's base case),
    /// the return is done here too, on the machine's registers.
    @inline(__always)
    private func afterTest(_ r: Bool, _ next: UnsafeMutablePointer<UInt32>, _ stack: UnsafeMutablePointer<Value>,
                           _ sp: inout Int, _ fp: inout Int, _ closure: inout Value,
                           _ consts: inout UnsafeMutablePointer<Value>) -> (Value, UnsafeMutablePointer<UInt32>) {
        var r = r, at = next
        if UInt8(truncatingIfNeeded: at.pointee) == Opcode.not.rawValue && at.pointee >> 24 == 0 {
            r = !r
            at += 1
        }
        let word = at.pointee
        if UInt8(truncatingIfNeeded: word) == Opcode.jumpIfFalse.rawValue {
            at = r ? at + 1 : at + 1 + jumpOffset(word)
        }
        if UInt8(truncatingIfNeeded: at.pointee) == Opcode.returnLocal.rawValue {
            let value = stack[fp &+ Int(at.pointee >> 8)]
            (sp, at, fp, closure, consts) = frameReturn(stack, fp)
            pushIfPushNext(value, &at, stack, &sp)
            return (value, at)
        }
        return (r ? .true : .false, at)
    }

    /// Whether x OP y, for a comparison opcode (plain or immediate form) and
    /// two integers in the same form (both tagged fixnums, or both plain).
    @inline(__always)
    private func fixnumTest(_ op: Opcode, _ x: Int64, _ y: Int64) -> Bool {
        switch op {
        case .lt, .ltImm: return x < y
        case .le, .leImm: return x <= y
        case .gt, .gtImm: return x > y
        case .ge, .geImm: return x >= y
        default: return x == y
        }
    }

    /// A jump's target relative to the instruction after it: the signed
    /// 24-bit operand of `JUMP`, `JUMPIFFALSE`, `LOOPJUMP` and `FRAME`.
    @inline(__always)
    private func jumpOffset(_ insn: UInt32) -> Int {
        Int(Int32(bitPattern: insn) &>> 8)
    }

    /// The value of a global cell (the constant `cellValue`), or an
    /// unbound-variable error.
    @inline(__always)
    private func globalValue(_ cellValue: Value) throws -> Value {
        let v = Unmanaged<GlobalCell>.fromOpaque(cellValue.objectPointer)._withUnsafeGuaranteedRef { $0.value }
        if v.raw == Value.unbound.raw {
            throw SchemeError(.unbound, "unbound variable: \(cellValue.unsafeObject(GlobalCell.self).name.name)")
        }
        return v
    }

    /// The fast paths of inlined primitives other than + and −, or nil when
    /// the slow path must handle the operands.
    @inline(__always)
    private func fastInline(_ op: Opcode, _ x: Value, _ y: Value) -> Value? {
        switch op {
        case .mul:
            if x.raw & y.raw & 1 != 0 {
                let (r, o) = Int64(bitPattern: x.raw >> 1).multipliedReportingOverflow(by: Int64(bitPattern: y.raw) - 1)
                if !o { return Value(raw: UInt64(bitPattern: r) | 1) }
            }
            if x.isInWordFlonum && y.isInWordFlonum { return Value.inWordFlonum(x.inWordFlonum * y.inWordFlonum) }
            return nil
        // Equal in-word flonums have equal words (one form per double).
        case .numEq: return compare(x, y, ==, ==)
        case .lt: return compare(x, y, <, <)
        case .le: return compare(x, y, <=, <=)
        case .gt: return compare(x, y, >, >)
        case .ge: return compare(x, y, >=, >=)
        case .eq: return Value(x.raw == y.raw)
        case .cons: return heap.pair(x, y)
        case .car: return y.isPair ? y.car : nil
        case .cdr: return y.isPair ? y.cdr : nil
        case .isNull: return Value(y.raw == Value.null.raw)
        case .isPair: return Value(y.isPair)
        case .not: return Value(y.raw == Value.false.raw)
        case .isZero: return y.isFixnum ? Value(y.raw == 1) : nil
        case .vectorRef:
            guard y.isFixnum, x.isObject(of: .vector) else { return nil }
            let v = x.unsafeObject(SchemeVector.self)
            let i = y.fixnum
            return i >= 0 && i < v.items.count ? v.items[i] : nil
        default: return nil
        }
    }

    /// The slow path of an inlined primitive: calls the built-in on operands
    /// the fast path does not handle, or — when the global now holds
    /// something else — turns the instruction into a real call of it.
    /// Returns the new acc, sp, pc and stack base.
    @inline(never)
    private func inlineSlowPath(_ op: Opcode, _ cellValue: Value, acc: Value, sp: Int, fp: Int, closure: Value,
                                pc: UnsafeMutablePointer<UInt32>) throws
        -> (Value, Int, UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<Value>) {
        let (value, integrable) = Unmanaged<GlobalCell>.fromOpaque(cellValue.objectPointer)
            ._withUnsafeGuaranteedRef { ($0.value, $0.integrable) }
        let argc = op.inlineArity
        let first = sp - (argc - 1)
        if value.raw == integrable.raw {
            if let r = flonumInline(op, argc == 2 ? stack[first] : acc, acc) { return (r, first, pc, stack) }
            if argc == 2, let r = numberInline(op, stack[first], acc) { return (r, first, pc, stack) }
        }
        if value.raw == integrable.raw && value.isObject(of: .primitive) {
            stack[sp] = acc  // make the arguments contiguous
            let result = try callPrimitive(value, stack + first, argc)
            return (result, first, pc, stack)
        }
        // Shift the stacked arguments up to make room for a frame header.
        var i = argc - 2
        while i >= 0 { stack[first + 3 + i] = stack[first + i]; i -= 1 }
        stack[first] = encode(pc: pc)
        stack[first + 1] = Value(fixnum: fp)
        stack[first + 2] = closure
        stack[first + 3 + argc - 1] = acc
        stub[0] = instruction(.call, argc)
        return (value, first + 3 + argc, stub, stack)
    }

    /// The slow path of an immediate-operand instruction: stacks the first
    /// operand, loads the constant and continues as the two-operand form.
    @inline(never)
    private func immediateSlowPath(_ op: Opcode, _ cellValue: Value, acc: Value, sp: Int, fp: Int, closure: Value,
                                   pc: UnsafeMutablePointer<UInt32>) throws
        -> (Value, Int, UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<Value>) {
        self.pc = pc; self.sp = sp; self.fp = fp; self.acc = acc; self.closure = closure  // SAVE
        let imm = Value(fixnum: Int(Int32(bitPattern: pc.pointee)))
        stack[sp] = acc
        return try inlineSlowPath(op, cellValue, acc: imm, sp: sp + 1, fp: fp, closure: closure, pc: pc + 1)
    }

    /// Copies a continuation's stack segment back and returns the registers
    /// of the frame it returns from: (sp, fp, pc, closure).
    private func reinstate(_ k: Continuation) throws -> (Int, Int, UnsafeMutablePointer<UInt32>, Value) {
        try ensureCapacity(k.resumeFP + 8)
        k.segment.withUnsafeBufferPointer { seg in
            if let src = seg.baseAddress { (stack + k.base).update(from: src, count: seg.count) }
        }
        let header = k.resumeFP - 3
        return (header, stack[header + 1].fixnum, decodePC(stack[header]), stack[header + 2])
    }

    // MARK: Calls: argument adjustment

    /// Checks the argument count against a closure's parameters and gathers
    /// the rest list. Returns the new argument count.
    private func adjustArguments(_ callee: Value, argc: Int, base: Int, required: Int, rest: Bool) throws -> Int {
        if !rest {
            let c = callee.unsafeObject(Closure.self)
            var e = SchemeError(.arity, "expected \(required) argument\(required == 1 ? "" : "s"), got \(argc)")
            e.procedure = c.template.name.isEmpty ? "anonymous procedure" : c.template.name
            throw e
        }
        guard argc >= required else {
            let c = callee.unsafeObject(Closure.self)
            var e = SchemeError(.arity, "expected at least \(required) argument\(required == 1 ? "" : "s"), got \(argc)")
            e.procedure = c.template.name.isEmpty ? "anonymous procedure" : c.template.name
            throw e
        }
        var list = Value.null
        var i = base + argc - 1
        while i >= base + required {
            list = interp.cons(stack[i], list)
            i -= 1
        }
        try ensureCapacity(base + required + 1)
        stack[base + required] = list
        return required + 1
    }

    /// `(apply f a … list)`: rewrites the arguments at `base` as `a … elements`.
    /// Returns `f` and the new argument count.
    private func spreadApplyArguments(base: Int, argc: Int) throws -> (Value, Int) {
        guard argc >= 2 else {
            var e = SchemeError(.arity, "expected at least 2 arguments, got \(argc)")
            e.procedure = "apply"
            throw e
        }
        let last = stack[base + argc - 1]
        guard let items = listToArray(last) else {
            var e = SchemeError.wrongType(last, expected: "a proper list", argument: argc)
            e.procedure = "apply"
            throw e
        }
        let f = stack[base]
        let fixed = argc - 2
        try ensureCapacity(base + fixed + items.count + 8)
        for i in 0..<fixed { stack[base + i] = stack[base + 1 + i] }
        for (i, v) in items.enumerated() { stack[base + fixed + i] = v }
        return (f, fixed + items.count)
    }

    // MARK: Errors

    private func notAProcedure(_ v: Value) -> SchemeError {
        SchemeError(.type, "not a procedure: ", irritants: [v])
    }

    private func uninitialised(_ index: Int, local: Bool, _ closure: Value) -> SchemeError {
        SchemeError(.unbound, "variable used before its definition was evaluated")
    }

    /// The location of the instruction at `pc` in the running closure.
    func currentLocation() -> SourceLocation {
        location(of: pc, in: closure)
    }

    func location(of pc: UnsafeMutablePointer<UInt32>, in closure: Value) -> SourceLocation {
        guard let c = closure.as(Closure.self) else { return .none }
        let t = c.template
        let offset = pc - t.code
        guard offset >= 0 && offset < t.codeCount else { return .none }
        return t.location(at: offset)
    }

    /// Where the procedure running now (the one that called the primitive
    /// asking) was called from: the frame's return address, or — when it
    /// was entered by a tail call, which leaves no frame — the place of that
    /// tail call.
    package func callSite() -> SourceLocation {
        let site = tailSite.pointee
        // The latest tail call is this frame's entry only if it targeted the
        // running procedure in this very frame (same return address).
        if site.fp == fp, site.callee.raw == closure.raw, fp >= 3, site.returnTo.raw == stack[fp - 3].raw,
           let p = site.pc {
            let loc = location(of: p, in: site.closure)
            if loc.isKnown { return loc }
        }
        guard fp >= 3 else { return .none }
        let ret = decodePC(stack[fp - 3])
        if ret == haltCode { return .none }
        return location(of: ret - 1, in: stack[fp - 1])
    }

    /// Where the latest tail call was made, whichever frame it entered (a
    /// last resort for placing an error when no frame is the user's: a
    /// top-level form's tail call leaves none).
    func latestTailCallSite() -> SourceLocation {
        guard let p = tailSite.pointee.pc else { return .none }
        return location(of: p, in: tailSite.pointee.closure)
    }

    /// The active calls, innermost first, as (procedure name, call location).
    func backtrace(limit: Int = 20) -> [(name: String, location: SourceLocation)] {
        var out: [(String, SourceLocation)] = []
        var f = fp
        var c = closure
        var p = pc
        while out.count < limit {
            guard let cl = c.as(Closure.self), c.raw != rootClosure.raw else { break }
            let name = cl.template.name.isEmpty ? "anonymous procedure" : cl.template.name
            out.append((name, location(of: p, in: c)))
            guard f >= 3 else { break }
            let ret = decodePC(stack[f - 3])
            if ret == haltCode { break }
            p = ret - 1
            c = stack[f - 1]
            f = stack[f - 2].fixnum
        }
        return out
    }
}
