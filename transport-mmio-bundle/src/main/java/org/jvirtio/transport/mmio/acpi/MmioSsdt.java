package org.jvirtio.transport.mmio.acpi;

import static org.jvirtio.transport.mmio.acpi.Aml.*;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.jvirtio.transport.mmio.MmioRegister;

/**
 * Builds an ACPI SSDT that declares virtio-mmio devices (HID {@value #HID}) whose register windows live
 * in BAR0 of a PCI function, for a guest to find with QEMU's {@code -acpitable file=...}. The table fits
 * any BAR placement: it reads the function's BAR0 and Interrupt Line registers through a PCI_Config
 * operation region when the guest evaluates {@code _CRS}, so the firmware may put the BAR anywhere.
 *
 * <p>Per slot {@code s} it declares, as ASL would write it:
 * <pre>
 * Scope (\_SB.PCI0) {
 *   Device (JVss) {                       // ss: the slot in hex; the ACPI companion of the PCI function
 *     Name (_ADR, s &lt;&lt; 16)
 *     Method (_STA) { Return (0x0F) }       // present: Linux prefers it to the firmware's own node
 *     OperationRegion (JCFG, PCI_Config, 0, 0x40)
 *     Field (JCFG, DWordAcc, NoLock, Preserve) { JVID, 16, Offset (0x10), JBAR, 32, Offset (0x3C), JIRQ, 8 }
 *     Device (VMww) {                     // ww: the window in hex, one per device
 *       Name (_HID, "LNRO0005")
 *       Name (_UID, uid)                  // numbered through the whole table
 *       Method (_STA) { If (LOr (LEqual (JVID, 0xFFFF), LEqual (And (JBAR, 0xFFFFFFF0), 0))) { Return (0) }
 *                       Return (0x0F) }   // absent while the function is missing or its BAR unassigned
 *       Method (_CRS, 0, Serialized) {
 *         Name (RBUF, ResourceTemplate () {
 *           Memory32Fixed (ReadWrite, 0, 0x200)
 *           Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { 0 } })
 *         CreateDWordField (RBUF, 4, WBAS)
 *         CreateDWordField (RBUF, 17, WIRQ)
 *         Store (Add (And (JBAR, 0xFFFFFFF0), ww * 0x200), WBAS)
 *         Store (JIRQ, WIRQ)
 *         Return (RBUF) } } } }
 * </pre>
 * Nesting under the function's companion matters: Linux then parents the window's memory resource to
 * the BAR's, where a top-level device would conflict with the BAR and fail to probe.
 */
public final class MmioSsdt {
    /** The ACPI hardware id Linux's virtio_mmio driver matches. */
    public static final String HID = "LNRO0005";
    /** Bytes of the ACPI table header. */
    public static final int HEADER_SIZE = 36;
    /** Window {@code i} of a slot starts at BAR0 + {@code i * WINDOW_SIZE}. */
    public static final int WINDOW_SIZE = MmioRegister.WINDOW_SIZE;
    /** Windows one slot may declare (names VM00 to VMFF). */
    public static final int MAX_WINDOWS = 256;
    /** PCI devices on a bus. */
    public static final int MAX_SLOTS = 32;
    /** Where the window base sits in the resource template (Memory32Fixed's base field). */
    static final int TEMPLATE_BASE_OFFSET = 4;
    /** Where the interrupt number sits (the Extended Interrupt descriptor's first entry, after Memory32Fixed). */
    static final int TEMPLATE_IRQ_OFFSET = 12 + 5;

    private MmioSsdt() {
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The name of slot {@code slot}'s device in {@code \_SB.PCI0}: {@code JV} and the slot in hex. */
    public static String slotDeviceName(int slot) {
        return String.format(Locale.ROOT, "JV%02X", slot);
    }

    /** The name of window {@code window}'s device under its slot's: {@code VM} and the window in hex. */
    public static String windowDeviceName(int window) {
        return String.format(Locale.ROOT, "VM%02X", window);
    }

    /** The window device's absolute ACPI path, as Linux shows it in {@code /sys/bus/acpi/devices/.../path}. */
    public static String windowDevicePath(int slot, int window) {
        return "\\_SB_.PCI0." + slotDeviceName(slot) + "." + windowDeviceName(window);
    }

    /** One PCI slot whose BAR0 holds {@code windows} register windows. */
    public record Slot(int slot, int windows) {
        public Slot {
            if (slot < 0 || slot >= MAX_SLOTS) {
                throw new IllegalArgumentException("PCI slot must be 0.." + (MAX_SLOTS - 1) + ": " + slot);
            }
            if (windows < 1 || windows > MAX_WINDOWS) {
                throw new IllegalArgumentException("windows per slot must be 1.." + MAX_WINDOWS + ": " + windows);
            }
        }
    }

    /** Table identification and the slots to declare. */
    public static final class Builder {
        private String oemId = "JVIRTO";
        private String oemTableId = "JVMMIO";
        private long oemRevision = 1;
        private final List<Slot> slots = new ArrayList<>();

        private Builder() {
        }

        /** Up to 6 ASCII characters (padded with spaces). */
        public Builder oemId(String id) {
            this.oemId = ascii(id, 6, "OEM ID");
            return this;
        }

        /** Up to 8 ASCII characters (padded with spaces). */
        public Builder oemTableId(String id) {
            this.oemTableId = ascii(id, 8, "OEM table ID");
            return this;
        }

        public Builder oemRevision(long revision) {
            if (revision < 0 || revision > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("OEM revision is 32 bits: " + revision);
            }
            this.oemRevision = revision;
            return this;
        }

        /** Declares {@code windows} devices in BAR0 of PCI slot {@code slot} (bus 0 under \_SB.PCI0). */
        public Builder slot(int slot, int windows) {
            Slot s = new Slot(slot, windows);
            for (Slot other : slots) {
                if (other.slot() == slot) {
                    throw new IllegalArgumentException("slot " + slot + " declared twice");
                }
            }
            slots.add(s);
            return this;
        }

        /** The complete table: header (length, checksum) and AML. */
        public byte[] build() {
            if (slots.isEmpty()) {
                throw new IllegalStateException("no slot declared");
            }
            List<byte[]> devices = new ArrayList<>();
            int uid = 0;
            for (Slot s : slots) {
                devices.add(slotDevice(s, uid));
                uid += s.windows();
            }
            byte[] aml = scope("\\_SB.PCI0", devices.toArray(new byte[0][]));
            return table(aml);
        }

        private byte[] table(byte[] aml) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int length = HEADER_SIZE + aml.length;
            out.writeBytes("SSDT".getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(le(length, 4));
            out.write(2);               // revision 2: integers are 64 bits
            out.write(0);               // checksum, set below
            out.writeBytes(pad(oemId, 6));
            out.writeBytes(pad(oemTableId, 8));
            out.writeBytes(le(oemRevision, 4));
            out.writeBytes("JVRT".getBytes(StandardCharsets.US_ASCII)); // creator id
            out.writeBytes(le(1, 4));   // creator revision
            out.writeBytes(aml);
            byte[] table = out.toByteArray();
            int sum = 0;
            for (byte b : table) {
                sum += b & 0xFF;
            }
            table[9] = (byte) -sum;
            return table;
        }
    }

    private static byte[] slotDevice(Slot s, int firstUid) {
        List<byte[]> body = new ArrayList<>();
        body.add(name("_ADR", integer((long) s.slot() << 16)));
        body.add(method("_STA", METHOD_NOT_SERIALIZED, returnOp(integer(0x0F))));
        body.add(operationRegion("JCFG", REGION_PCI_CONFIG, 0, 0x40));
        body.add(fieldList("JCFG", FIELD_DWORD_ACC,
                field("JVID", 16),
                skipBits(0x10 * 8 - 16), field("JBAR", 32),
                skipBits((0x3C - 0x14) * 8), field("JIRQ", 8)));
        for (int w = 0; w < s.windows(); w++) {
            body.add(windowDevice(w, firstUid + w));
        }
        return device(slotDeviceName(s.slot()), body.toArray(new byte[0][]));
    }

    private static byte[] windowDevice(int window, int uid) {
        byte[] barBase = and(nameString("JBAR"), integer(0xFFFF_FFF0L));
        byte[] absent = lOr(lEqual(nameString("JVID"), integer(0xFFFF)), lEqual(barBase, integer(0)));
        return device(windowDeviceName(window),
                name("_HID", string(HID)),
                name("_UID", integer(uid)),
                method("_STA", METHOD_NOT_SERIALIZED,
                        ifOp(absent, returnOp(integer(0))),
                        returnOp(integer(0x0F))),
                method("_CRS", METHOD_SERIALIZED,
                        name("RBUF", buffer(resourceTemplate())),
                        createDWordField(nameString("RBUF"), integer(TEMPLATE_BASE_OFFSET), "WBAS"),
                        createDWordField(nameString("RBUF"), integer(TEMPLATE_IRQ_OFFSET), "WIRQ"),
                        store(add(barBase, integer((long) window * WINDOW_SIZE)), nameString("WBAS")),
                        store(nameString("JIRQ"), nameString("WIRQ")),
                        returnOp(nameString("RBUF"))));
    }

    /**
     * {@code Memory32Fixed (ReadWrite, 0, 0x200)}, {@code Interrupt (ResourceConsumer, Level, ActiveHigh,
     * Shared) {0}} and the end tag (ACPI 6.5 sections 6.4.3.4, 6.4.3.6, 6.4.2.9); base and interrupt are
     * filled in by _CRS.
     */
    static byte[] resourceTemplate() {
        byte[] memory = concat(new byte[] {(byte) 0x86, 0x09, 0x00, 0x01}, le(0, 4), le(WINDOW_SIZE, 4));
        // flags: consumer (bit 0), level (bit 1 clear), active-high (bit 2 clear), shared (bit 3)
        byte[] interrupt = concat(new byte[] {(byte) 0x89, 0x06, 0x00, 0x09, 0x01}, le(0, 4));
        byte[] end = {0x79, 0x00};
        return concat(memory, interrupt, end);
    }

    private static String ascii(String s, int max, String what) {
        if (s.length() > max || !StandardCharsets.US_ASCII.newEncoder().canEncode(s)) {
            throw new IllegalArgumentException(what + " must be at most " + max + " ASCII characters: " + s);
        }
        return s;
    }

    private static byte[] pad(String s, int length) {
        byte[] b = new byte[length];
        java.util.Arrays.fill(b, (byte) ' ');
        byte[] chars = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(chars, 0, b, 0, chars.length);
        return b;
    }
}
