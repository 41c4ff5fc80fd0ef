package io.quiver.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class LockHistoryTest {
  @Test
  void keepsTheNewestChangesAndCountsTheForgottenOnes() {
    var history = new LockHistory(3);
    for (int i = 0; i < 5; i++) {
      history.record(new LockHistory.Change(i * 1000L, LockState.UNLOCKED, new LockState(true, "m" + i),
          new LockOrigin("10.0.0." + i, "none")));
    }
    JsonObject json = history.toJson();
    assertEquals(2L, json.getLong("forgotten"));
    assertEquals(3, json.getJsonArray("changes").size());
    JsonObject oldest = json.getJsonArray("changes").getJsonObject(0);
    assertEquals("m2", oldest.getString("error_message"));
    assertEquals("1970-01-01T00:00:02Z", oldest.getString("time"));
    assertEquals("10.0.0.2", oldest.getString("client"));
    assertEquals(false, oldest.getJsonObject("previous").getBoolean("write"));
  }

  @Test
  void anOriginThatIsMissingOrMalformedIsUnknown() {
    assertEquals(LockOrigin.UNKNOWN, LockOrigin.fromJson(null));
    assertEquals(LockOrigin.UNKNOWN, LockOrigin.fromJson(new JsonObject().put("client", 5).put("api_key", "none")));
    assertEquals(LockOrigin.UNKNOWN, LockOrigin.fromJson("text"));
    LockOrigin parsed = LockOrigin.fromJson(new JsonObject().put("api_key", "read-write"));
    assertNull(parsed.client());
    assertEquals("read-write", parsed.apiKey());
  }
}
