/// Emits bytecode (see `Opcode`) for one `LambdaNode`, recursively for the
/// lambdas inside it.
final class CodeGenerator {
    private unowned let interp: Interpreter
    private let lambda: LambdaNode
    private var code: [UInt32] = []
    private var constants: [Value] = []
    /// Where each constant is, once there are too many to search: most
    /// templates have a few, and a dictionary keyed by a new type costs the
    /// Swift runtime a scan of every protocol conformance in the executable
    /// the first time it is made (0.3 ms of every start).
    private var constantIndex: [UInt64: Int]?
    private var locations: [(offset: Int32, location: SourceLocation)] = []
    private var depth = 0
    private var maxDepth = 0
    /// Code offset that a jump targets last; instructions before it must not
    /// be fused with the next one.
    private var fusionBarrier = -1

    private init(interp: Interpreter, lambda: LambdaNode) {
        self.interp = interp
        self.lambda = lambda
    }

    /// Compiles a lambda (and everything inside it) into a template.
    static func generate(_ lambda: LambdaNode, interp: Interpreter) throws -> Template {
        let g = CodeGenerator(interp: interp, lambda: lambda)
        return try g.run()
    }

    private func run() throws -> Template {
        for v in lambda.params where v.isBoxed { emit(.makeBox, v.slot) }
        if let r = lambda.rest, r.isBoxed { emit(.makeBox, r.slot) }
        try compile(lambda.body, tail: true)
        // Jump operands are signed 24-bit distances.
        guard code.count < 1 << 23 else {
            throw SchemeError.syntax("procedure too large to compile (\(code.count) instructions)", at: lambda.location)
        }
        let t = Template(code: code, constants: constants, requiredCount: lambda.params.count,
                         hasRest: lambda.rest != nil, frameSize: lambda.slotCount, maxStack: maxDepth + 4,
                         name: lambda.name, locations: locations, location: lambda.location)
        interp.heap.register(t)
        return t
    }

    // MARK: Emission

    private func emit(_ op: Opcode, _ a: Int = 0) {
        previousStart = lastStart
        lastStart = code.count
        code.append(instruction(op, a))
        lastIsOperandWord = false
    }
    /// Where the last two instructions begin (-1: unknown), for fusions
    /// that look two instructions back.
    private var lastStart = -1, previousStart = -1

    /// Appends an operand word (not an instruction).
    private func emitOperand(_ w: UInt32) {
        code.append(w)
        lastIsOperandWord = true
    }
    /// Whether the last word is an operand, not an instruction to fuse.
    private var lastIsOperandWord = false
    /// Where the last instruction with an immediate operand (`ADDIMM` …) is:
    /// operand words of other instructions may look like opcodes.
    private var lastImmediate = -1

    private func mark(_ loc: SourceLocation) {
        if loc.isKnown { locations.append((Int32(code.count), loc)) }
    }

    private func constant(_ v: Value) -> Int {
        if let index = constantIndex {
            if let i = index[v.raw] { return i }
        } else if let i = constants.firstIndex(where: { $0.raw == v.raw }) {
            return i
        }
        constants.append(v)
        if constantIndex != nil {
            constantIndex?[v.raw] = constants.count - 1
        } else if constants.count > 32 {
            constantIndex = Dictionary(uniqueKeysWithValues: constants.enumerated().map { ($1.raw, $0) })
        }
        return constants.count - 1
    }

    private func push() {
        // LOCAL a / CONST k followed by PUSH become one instruction.
        if let last = code.last, code.count != fusionBarrier, code.count > 0 {
            let op = Opcode(rawValue: UInt8(last & 0xFF))
            if op == .local || op == .const, !lastIsOperandWord {
                code[code.count - 1] = (last & ~0xFF) | UInt32((op == .local ? Opcode.pushLocal : .pushConst).rawValue)
                depth += 1
                maxDepth = max(maxDepth, depth)
                // Two locals pushed in a row (arguments of a call): one
                // PUSHLOCAL2, unless a jump lands on the second.
                let slot = Int(last >> 8), at = code.count - 1
                if op == .local, at >= 1, lastStart == at, previousStart == at - 1, fusionBarrier < at, slot < 1 << 12,
                   Opcode(rawValue: UInt8(code[at - 1] & 0xFF)) == .pushLocal, code[at - 1] >> 8 < 1 << 12 {
                    code[at - 1] = instruction(.pushLocal2, Int(code[at - 1] >> 8) | slot << 12)
                    code.removeLast()
                    lastStart = at - 1
                    previousStart = -1
                }
                return
            }
        }
        // ADDIMM/SUBIMM k followed by PUSH: the fused form, with the PUSH
        // kept for its slow path.
        if lastImmediate >= 0, lastImmediate == code.count - 2, code.count != fusionBarrier {
            let at = lastImmediate
            let op = Opcode(rawValue: UInt8(code[at] & 0xFF))
            if op == .addImm || op == .subImm {
                code[at] = (code[at] & ~0xFF) | UInt32((op == .addImm ? Opcode.addImmPush : .subImmPush).rawValue)
            }
        }
        emit(.push)
        depth += 1
        maxDepth = max(maxDepth, depth)
    }

    private func returnIfTail(_ tail: Bool) { if tail { emit(.return) } }

    // MARK: Nodes

    private func compile(_ node: Node, tail: Bool) throws {
        if interp.stackGuard.isLow {
            throw SchemeError.syntax("expression nested too deeply to compile", at: lambda.location)
        }
        switch node {
        case .constant(let v):
            emit(.const, constant(v))
            returnIfTail(tail)

        case .local(let v, let loc):
            if tail, let slot = plainLocalSlot(v) {
                emit(.returnLocal, slot)
                return
            }
            loadVariable(v, loc)
            returnIfTail(tail)

        case .global(let cell, let loc):
            mark(loc)
            emit(.global, constant(Value(object: cell)))
            returnIfTail(tail)

        case .setLocal(let v, let value):
            try compile(value, tail: false)
            storeVariable(v)
            emit(.const, constant(.unspecified))
            returnIfTail(tail)

        case .setGlobal(let cell, let value, let loc):
            try compile(value, tail: false)
            mark(loc)
            emit(.setGlobal, constant(Value(object: cell)))
            emit(.const, constant(.unspecified))
            returnIfTail(tail)

        case .defineGlobal(let cell, let value):
            try compile(value, tail: false)
            emit(.defineGlobal, constant(Value(object: cell)))
            returnIfTail(tail)

        case .if(let test, let then, let other):
            try compile(test, tail: false)
            let jumpElse = code.count
            emit(.jumpIfFalse)
            try compile(then, tail: tail)
            var jumpEnd = -1
            if !tail { jumpEnd = code.count; emit(.jump) }
            patch(jumpElse, to: code.count)
            try compile(other, tail: tail)
            if jumpEnd >= 0 { patch(jumpEnd, to: code.count) }

        case .lambda(let lam):
            try compileLambda(lam)
            returnIfTail(tail)

        case .sequence(let nodes):
            if nodes.isEmpty { try compile(.constant(.unspecified), tail: tail); return }
            for n in nodes.dropLast() { try compile(n, tail: false) }
            try compile(nodes[nodes.count - 1], tail: tail)

        case .call(let f, let args, let loc):
            try compileCall(f, args, loc, tail: tail)

        case .bind(let vars, let inits, let body):
            for (v, i) in zip(vars, inits) {
                try compile(i, tail: false)
                emit(.setLocal, v.slot)
                if v.isBoxed { emit(.makeBox, v.slot) }
            }
            try compile(body, tail: tail)

        case .letrec(let vars, let inits, let body):
            for v in vars {
                emit(.const, constant(.undefined))
                emit(.setLocal, v.slot)
                if v.isBoxed { emit(.makeBox, v.slot) }
            }
            for (v, i) in zip(vars, inits) {
                try compile(i, tail: false)
                storeVariable(v)
            }
            try compile(body, tail: tail)

        case .loop(let label, let inits, let body):
            for (v, i) in zip(label.variables, inits) {
                try compile(i, tail: false)
                emit(.setLocal, v.slot)
                if v.isBoxed { emit(.makeBox, v.slot) }
            }
            label.start = code.count
            fusionBarrier = code.count
            try compile(body, tail: tail)

        case .loopCall(let label, let args, let loc):
            // Evaluate every argument before assigning any loop variable.
            let saved = depth
            for a in args.dropLast() {
                try compile(a, tail: false)
                push()
            }
            if let last = args.last, let v = label.variables.last {
                try compile(last, tail: false)
                emit(.setLocal, v.slot)
            }
            for v in label.variables.dropLast().reversed() { emit(.popLocal, v.slot) }
            depth = saved
            for v in label.variables where v.isBoxed { emit(.makeBox, v.slot) }
            mark(loc)
            emit(.loopJump, label.start - (code.count + 1))
        }
    }

    /// Points the jump (or `FRAME`) at `at` to `target`: its operand is the
    /// signed distance from the instruction after it.
    private func patch(_ at: Int, to target: Int) {
        code[at] = (code[at] & 0xFF) | (UInt32(truncatingIfNeeded: target - (at + 1)) << 8)
        fusionBarrier = max(fusionBarrier, target)
    }

    private func loadVariable(_ v: Variable, _ loc: SourceLocation) {
        let checked = v.needsInitCheck
        if checked { mark(loc) }
        if v.owner === lambda {
            if v.isBoxed { emit(checked ? .localBoxChecked : .localBox, v.slot) }
            else { emit(checked ? .localChecked : .local, v.slot) }
        } else {
            let i = lambda.existingFreeSlot(of: v) ?? 0
            if v.isBoxed { emit(checked ? .freeBoxChecked : .freeBox, i) }
            else { emit(.free, i) }
        }
    }

    /// The slot of a variable an instruction may read directly from the
    /// frame: this procedure's own, neither boxed nor to be checked.
    private func plainLocalSlot(_ v: Variable) -> Int? {
        v.owner === lambda && !v.isBoxed && !v.needsInitCheck ? v.slot : nil
    }

    private func storeVariable(_ v: Variable) {
        if v.owner === lambda {
            emit(v.isBoxed ? .setLocalBox : .setLocal, v.slot)
        } else {
            emit(.setFreeBox, lambda.existingFreeSlot(of: v) ?? 0)
        }
    }

    private func compileLambda(_ lam: LambdaNode) throws {
        let template = try CodeGenerator.generate(lam, interp: interp)
        if lam.freeVariables.isEmpty {
            // No free variables: one closure object serves every evaluation.
            let closure = interp.heap.register(Closure(template: template, freeCount: 0))
            emit(.const, constant(Value(object: closure)))
            return
        }
        emit(.closure, constant(Value(object: template)))
        emitOperand(UInt32(lam.freeVariables.count))
        for v in lam.freeVariables {
            if v.owner === lambda {
                emitOperand(UInt32(v.slot))
            } else {
                emitOperand(UInt32(lambda.existingFreeSlot(of: v) ?? 0) | (1 << 31))
            }
        }
    }

    private func compileCall(_ f: Node, _ args: [Node], _ loc: SourceLocation, tail: Bool) throws {
        if case .global(let cell, _) = f, let prim = cell.integrable.as(Primitive.self),
           cell.value.raw == cell.integrable.raw,
           let op = Opcode.inlined(name: prim.name, argc: args.count) {
            let saved = depth
            let cellIndex = constant(Value(object: cell))
            var a = cellIndex
            /// The operand the instruction takes in acc: a local rides in
            /// the instruction (see `Opcode.add`), anything else is compiled.
            func accOperand(_ node: Node) throws {
                if case .local(let v, _) = node, let slot = plainLocalSlot(v), slot < 255, cellIndex < 1 << 16 {
                    a |= (slot + 1) << 16
                } else {
                    try compile(node, tail: false)
                }
            }
            if args.count == 2, let imm = op.immediateForm, case .constant(let c) = args[1],
               c.isFixnum, c.fixnum >= Int(Int32.min), c.fixnum <= Int(Int32.max) {
                // (op x 1): the constant rides in the instruction.
                try accOperand(args[0])
                maxDepth = max(maxDepth, depth + 5)
                mark(loc)
                lastImmediate = code.count
                emit(imm, a)
                emitOperand(UInt32(bitPattern: Int32(c.fixnum)))
                depth = saved
                returnIfTail(tail)
                return
            }
            if args.count == 2, [.lt, .le, .gt, .ge, .numEq, .eq].contains(op),
               case .local(let vx, _) = args[0], let x = plainLocalSlot(vx), x < 256,
               case .local(let vy, _) = args[1], let y = plainLocalSlot(vy), y < 256 {
                // A test of two locals (`(< i n)`): one instruction.
                maxDepth = max(maxDepth, depth + 5)
                mark(loc)
                emit(.compareLocals, x | y << 8 | Int(op.rawValue) << 16)
                emitOperand(UInt32(cellIndex))
                depth = saved
                returnIfTail(tail)
                return
            }
            if args.count == 2 {
                try compile(args[0], tail: false)
                push()
                try accOperand(args[1])
            } else {
                try accOperand(args[0])
            }
            // Room for the fallback, which may turn this into a real call.
            maxDepth = max(maxDepth, depth + 4)
            mark(loc)
            emit(op, a)
            depth = saved
            returnIfTail(tail)
            return
        }
        let saved = depth
        var globalIndex = -1
        if case .global(let cell, _) = f, args.count < 256 {
            let index = constant(Value(object: cell))
            if index < 1 << 16 { globalIndex = index }
        }
        var frameAt = -1
        if !tail {
            // CALLGLOBAL puts the frame header below its arguments itself.
            if globalIndex < 0 {
                frameAt = code.count
                emit(.frame)
            }
            depth += 3
            maxDepth = max(maxDepth, depth)
        }
        for a in args {
            try compile(a, tail: false)
            push()
        }
        if globalIndex >= 0 {
            // The cell is read after the arguments, as GLOBAL would be.
            mark(loc)
            emit(tail ? .tailCallGlobal : .callGlobal, globalIndex << 8 | args.count)
            depth = saved
            return
        }
        try compile(f, tail: false)
        mark(loc)
        emit(tail ? .tailCall : .call, args.count)
        depth = saved
        if frameAt >= 0 { patch(frameAt, to: code.count) }
    }
}
