package org.jvirtio.transport.pci.proxy.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.nativeio.UnixSocket;

/** The qtest route against a hand-written qtest server: what is sent, and that a stalled QEMU stalls no caller. */
class QtestDeliveryTest {

    /** Reads one command line from the client. */
    private static String readLine(UnixSocket server) throws IOException {
        StringBuilder line = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        List<NativeFd> fds = new ArrayList<>();
        for (;;) {
            one.clear();
            if (server.receive(one, fds, 0) < 0) {
                throw new IOException("client closed");
            }
            char c = (char) one.get(0);
            if (c == '\n') {
                return line.toString();
            }
            line.append(c);
        }
    }

    private static void answer(UnixSocket server, String lines) throws IOException {
        server.send(ByteBuffer.wrap(lines.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void linesAreOredAcrossFunctionsAndSentOnlyWhenTheLevelChanges() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        UnixSocket server = pair[1];
        server.setReceiveTimeout(Duration.ofSeconds(30));
        try (QtestDelivery delivery = new QtestDelivery(QtestClient.over(pair[0], Duration.ofSeconds(30)), "/io")) {
            int a = delivery.register();
            int b = delivery.register();
            delivery.intx(a, 11, true);
            assertThat(readLine(server)).isEqualTo("set_irq_in /io unnamed-gpio-in 11 1");
            answer(server, "IRQ raise 3\nOK\n");
            delivery.intx(b, 11, true);
            delivery.intx(a, 11, false);
            delivery.msi(0xfee0_0000L, 0x4041);
            assertThat(readLine(server)).as("line still held by b: only the MSI goes out")
                    .isEqualTo("writel 0xfee00000 0x4041");
            answer(server, "OK\n");
            delivery.intx(b, 11, false);
            assertThat(readLine(server)).isEqualTo("set_irq_in /io unnamed-gpio-in 11 0");
            answer(server, "OK\n");
        } finally {
            server.close();
        }
    }

    @Test
    void aQemuThatNeverAnswersBlocksNoCallerAndPendingMsisAreCoalesced() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        UnixSocket server = pair[1];
        server.setReceiveTimeout(Duration.ofSeconds(30));
        try (QtestDelivery delivery = new QtestDelivery(QtestClient.over(pair[0], Duration.ofSeconds(30)), "/io")) {
            int a = delivery.register();
            delivery.msi(0xfee0_0000L, 1);
            assertThat(readLine(server)).isEqualTo("writel 0xfee00000 0x1"); // and never answered
            for (int i = 0; i < 1000; i++) {
                delivery.msi(0xfee0_0000L, 2);
                delivery.intx(a, 10, i % 2 == 0);
            }
            for (int v = 0; v < 100; v++) {
                delivery.msi(0xfee0_1000L, 100 + v);
            }
            assertThat(delivery.msiCoalesced()).isEqualTo(999);
            assertThat(delivery.msiDropped()).as("1 + 100 distinct, 64 fit").isEqualTo(100 - 63);
        } finally {
            server.close();
        }
    }

    @Test
    void aLateReplyIsSkippedSoTheNextAnswerIsTheRightOne() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        UnixSocket server = pair[1];
        server.setReceiveTimeout(Duration.ofSeconds(30));
        try (QtestClient client = QtestClient.over(pair[0], Duration.ofMillis(200))) {
            assertThat(client.writel(0x1000, 5)).as("no answer in time").isFalse();
            assertThat(readLine(server)).isEqualTo("writel 0x1000 0x5");
            answer(server, "OK\n"); // the late answer to the first command
            Thread worker = new Thread(() -> {
                try {
                    assertThat(readLine(server)).isEqualTo("readl 0x2000");
                    answer(server, "OK 0x2a\n");
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            worker.start();
            client.setTimeoutForTest(Duration.ofSeconds(30));
            assertThat(client.readl(0x2000)).isEqualTo(0x2a);
            worker.join();
            assertThat(client.timeouts()).isEqualTo(1);
        } finally {
            server.close();
        }
    }

    @Test
    void aLoweringIsAwaitedOnlyUntilQemuHasItAndNeverLongerThanAsked() throws Exception {
        UnixSocket[] pair = UnixSocket.pair();
        UnixSocket server = pair[1];
        server.setReceiveTimeout(Duration.ofSeconds(30));
        try (QtestDelivery delivery = new QtestDelivery(QtestClient.over(pair[0], Duration.ofSeconds(30)), "/io")) {
            int a = delivery.register();
            delivery.intx(a, 11, true);
            assertThat(readLine(server)).isEqualTo("set_irq_in /io unnamed-gpio-in 11 1");
            answer(server, "OK\n");
            long ticket = delivery.intx(a, 11, false);
            assertThat(ticket).isPositive();
            delivery.awaitDelivered(ticket, 10); // QEMU has not answered: gives up
            assertThat(delivery.settleTimeouts()).isEqualTo(1);
            assertThat(readLine(server)).isEqualTo("set_irq_in /io unnamed-gpio-in 11 0");
            answer(server, "OK\n");
            delivery.awaitDelivered(ticket, 60_000); // returns once the sender has the answer
            assertThat(delivery.settleTimeouts()).isEqualTo(1);
            int b = delivery.register();
            delivery.intx(b, 10, true);
            assertThat(readLine(server)).isEqualTo("set_irq_in /io unnamed-gpio-in 10 1");
            answer(server, "OK\n");
            delivery.intx(a, 10, true);
            assertThat(delivery.intx(a, 10, false)).as("line still held by b: nothing to wait for").isZero();
        } finally {
            server.close();
        }
    }
}
