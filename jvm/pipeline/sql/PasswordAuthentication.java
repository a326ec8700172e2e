package pipeline.sql;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import javax.security.sasl.AuthenticationException;

import org.apache.hive.service.auth.PasswdAuthenticationProvider;

/**
 * The Thrift JDBC endpoint's password check (hive.server2.authentication=CUSTOM): any user name,
 * the one password of this start. jobs/serve.py hands it over before the endpoint opens; until
 * then every login fails.
 */
public final class PasswordAuthentication implements PasswdAuthenticationProvider {

  private static volatile byte[] expected;

  /** The password clients must give from now on. */
  public static void expect(String password) {
    expected = password.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void Authenticate(String user, String password) throws AuthenticationException {
    byte[] want = expected;
    // Constant time: the answer's delay says nothing about how much of a guess was right.
    if (want == null || password == null
        || !MessageDigest.isEqual(want, password.getBytes(StandardCharsets.UTF_8))) {
      throw new AuthenticationException("wrong password for user " + user);
    }
  }
}
