package org.jvirtio.transport.pci.proxy.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void parsesWhatQmpSends() {
        Object v = Json.parse("{\"return\": [{\"bus\": 0, \"devices\": [{\"id\": {\"vendor\": 32902}, \"desc\":"
                + " \"Host \\\"bridge\\\"\\u0041\", \"f\": 1.5, \"ok\": true, \"none\": null, \"neg\": -1}]}]}\r");
        Map<?, ?> device = (Map<?, ?>) ((List<?>) ((Map<?, ?>) ((List<?>) ((Map<?, ?>) v).get("return")).get(0))
                .get("devices")).get(0);
        assertThat(((Map<?, ?>) device.get("id")).get("vendor")).isEqualTo(32902L);
        assertThat(device.get("desc")).isEqualTo("Host \"bridge\"A");
        assertThat(device.get("f")).isEqualTo(1.5);
        assertThat(device.get("ok")).isEqualTo(true);
        assertThat(device.containsKey("none") && device.get("none") == null).isTrue();
        assertThat(device.get("neg")).isEqualTo(-1L);
    }

    @Test
    void writesCommandsThatParseBack() {
        Map<String, Object> cmd = Map.of("execute", "getfd", "arguments", Map.of("fdname", "a\"b\\c\n"));
        assertThat(Json.parse(Json.write(cmd))).isEqualTo(cmd);
    }

    @Test
    void refusesMalformedAndTooDeepInput() {
        assertThatThrownBy(() -> Json.parse("{\"a\": }")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Json.parse("{\"a\": 1} x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Json.parse("\"unterminated")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Json.parse("[".repeat(100) + "]".repeat(100)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
