package org.jvirtio.transport.mmio.acpi;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.jvirtio.transport.mmio.acpi.AmlDecoder.Node;

/**
 * Runs a decoded control method the way an AML interpreter would, for the few operators the table uses,
 * with the PCI configuration fields given as values: what {@code _STA} and {@code _CRS} return for a
 * BAR and an interrupt line.
 */
final class AmlEvaluator {
    private final Map<String, Long> fields;
    private final Map<String, byte[]> buffers = new HashMap<>();
    /** Buffer fields: name → {buffer name, byte offset}. */
    private final Map<String, Object[]> dwordFields = new HashMap<>();

    AmlEvaluator(Map<String, Long> fields) {
        this.fields = fields;
    }

    /** The value of Return in {@code method}'s body: a Long or a byte[]. */
    Object run(Node method) {
        return block(method.children());
    }

    private Object block(List<Node> terms) {
        for (Node t : terms) {
            switch (t.kind()) {
                case "Name":
                    Node value = t.children().get(0);
                    if (!value.kind().equals("Buffer")) {
                        throw new AssertionError("only buffers are named inside methods here: " + t);
                    }
                    buffers.put(t.name(), value.bytes().clone());
                    break;
                case "CreateDWordField": {
                    String buffer = t.children().get(0).name();
                    long offset = (Long) eval(t.children().get(1));
                    if (!buffers.containsKey(buffer) || offset + 4 > buffers.get(buffer).length) {
                        throw new AssertionError("field " + t.name() + " outside buffer " + buffer);
                    }
                    dwordFields.put(t.name(), new Object[] {buffer, offset});
                    break;
                }
                case "Store": {
                    long v = (Long) eval(t.children().get(0));
                    Object[] target = dwordFields.get(t.children().get(1).name());
                    if (target == null) {
                        throw new AssertionError("store to an unknown field " + t);
                    }
                    byte[] buf = buffers.get((String) target[0]);
                    int at = (int) (long) (Long) target[1];
                    for (int i = 0; i < 4; i++) {
                        buf[at + i] = (byte) (v >>> (8 * i));
                    }
                    break;
                }
                case "If": {
                    long predicate = (Long) eval(t.children().get(0));
                    if (predicate != 0) {
                        Object r = block(t.children().subList(1, t.children().size()));
                        if (r != null) {
                            return r;
                        }
                    }
                    break;
                }
                case "Return": {
                    Node v = t.children().get(0);
                    if (v.kind().equals("NameString") && buffers.containsKey(v.name())) {
                        return buffers.get(v.name());
                    }
                    return eval(v);
                }
                default:
                    throw new AssertionError("not evaluated here: " + t);
            }
        }
        return null;
    }

    private Object eval(Node e) {
        switch (e.kind()) {
            case "Integer":
                return e.number();
            case "NameString": {
                Long v = fields.get(e.name());
                if (v == null) {
                    throw new AssertionError("unknown name " + e.name());
                }
                return v;
            }
            case "And":
                return (Long) eval(e.children().get(0)) & (Long) eval(e.children().get(1));
            case "Add":
                return (Long) eval(e.children().get(0)) + (Long) eval(e.children().get(1));
            case "LEqual":
                return ((Long) eval(e.children().get(0))).equals(eval(e.children().get(1))) ? 1L : 0L;
            case "LOr":
                return (Long) eval(e.children().get(0)) != 0 || (Long) eval(e.children().get(1)) != 0 ? 1L : 0L;
            default:
                throw new AssertionError("not evaluated here: " + e);
        }
    }
}
