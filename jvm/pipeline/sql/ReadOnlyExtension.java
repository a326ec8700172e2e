package pipeline.sql;

import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.catalyst.analysis.PersistedView$;
import org.apache.spark.sql.catalyst.analysis.UnresolvedRelation;
import org.apache.spark.sql.catalyst.catalog.ExternalCatalog;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.plans.logical.Command;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.execution.command.CreateViewCommand;
import org.apache.spark.sql.execution.command.ResetCommand;
import org.apache.spark.sql.execution.command.SetCommand;
import org.apache.spark.sql.execution.datasources.CreateTempViewUsing;
import org.apache.spark.sql.execution.datasources.HadoopFsRelation;
import org.apache.spark.sql.execution.datasources.LogicalRelation;
import org.apache.spark.sql.execution.datasources.v2.DataSourceV2Relation;

import scala.Function1;
import scala.runtime.BoxedUnit;

import static scala.jdk.javaapi.CollectionConverters.asJava;

/**
 * Read-only SQL endpoints (make serve): with spark.sql.extensions=pipeline.sql.ReadOnlyExtension
 * every client statement is checked at analysis, before it runs. Refused: what would change a
 * table or the catalog (DDL, INSERT, MERGE, UPDATE, DELETE, OPTIMIZE, VACUUM, DataFrame writes,
 * LOAD DATA, ADD JAR, CREATE FUNCTION); reads of anything but the lake's registered tables (SQL on
 * files, views over files, DataFrame reads of other paths, other sources); settings outside
 * Refusal.SETTABLE, whether set by SET, a JDBC URL or Spark Connect; client code in the plan
 * (UDFs of every language, TRANSFORM scripts, reflect()). Queries, SHOW, DESCRIBE, EXPLAIN, USE,
 * CACHE and temporary views over tables stay allowed. The server's own session is trusted.
 * Spark Connect's requests are checked first by ConnectGuard.
 */
public final class ReadOnlyExtension implements Function1<SparkSessionExtensions, BoxedUnit> {

  private static final Pattern READ_ONLY_COMMANDS = Pattern.compile(
      "(Show|Describe|Explain|SetCatalogAndNamespace|SetNamespace|RefreshTable|CacheTable|UncacheTable|ClearCache)\\w*"
          + "|SetVariable|CreateVariable|DropVariable");

  /**
   * Plan nodes and expressions that run a client's code a SQL statement or a Connect plan can carry:
   * Python, pandas and Arrow functions, R, TRANSFORM scripts and reflect() (any static Java method,
   * System.exit too). JVM closures (Scala and Java UDFs, typed Dataset functions) come only through
   * Spark Connect, whose ConnectGuard refuses them before Spark deserializes them, or CREATE FUNCTION
   * and ADD JAR, refused as commands; Delta's own Scala UDFs must pass.
   */
  private static final Pattern CLIENT_CODE_NODES = Pattern.compile("ScriptTransformation|\\w*(Python|Pandas|Arrow|InR)\\w*");
  private static final Pattern CLIENT_CODE_EXPRESSIONS = Pattern.compile("Python\\w*|CallMethodViaReflection");

  private static final Set<SparkSession> TRUSTED = Collections.synchronizedSet(
      Collections.newSetFromMap(new IdentityHashMap<>()));

  /** The server session's settings: a client's session starts from the same ones. */
  private static volatile Map<String, String> serverSettings = Map.of();

  /** Let `session` (the server's own) register tables; its settings are the ones clients keep. */
  public static void trust(SparkSession session) {
    TRUSTED.add(session);
    serverSettings = Map.copyOf(asJava(session.sessionState().conf().getAllConfs()));
  }

  @Override
  public BoxedUnit apply(SparkSessionExtensions extensions) {
    extensions.injectResolutionRule(session -> new RefuseSqlOnFiles(session));
    extensions.injectCheckRule(session -> plan -> {
      if (!TRUSTED.contains(session)) {
        checkSettings(session);
        checkStatement(plan);
        checkReads(lakeTables(session), plan);
      }
      return BoxedUnit.UNIT;
    });
    return BoxedUnit.UNIT;
  }

  private static void checkStatement(LogicalPlan plan) {
    if (plan instanceof SetCommand set) {
      // SET key=value changes a setting; SET, SET -v and SET key only show them.
      if (set.kv().isDefined() && set.kv().get()._2().isDefined()) {
        checkSettable(set.kv().get()._1().trim());
      }
      return;
    }
    if (plan instanceof ResetCommand reset) {
      if (reset.config().isDefined()) {
        checkSettable(reset.config().get().trim());
      }
      return;
    }
    if (plan instanceof CreateTempViewUsing view) {
      throw Refusal.notATable("a view over files (CREATE TEMPORARY VIEW " + view.tableIdent().table() + " USING "
          + view.provider() + ")");
    }
    if (!(plan instanceof Command)) {
      return;
    }
    String name = plan.getClass().getSimpleName();
    if (READ_ONLY_COMMANDS.matcher(name).matches()) {
      return;
    }
    if (plan instanceof CreateViewCommand view && view.viewType() != PersistedView$.MODULE$) {
      return;
    }
    throw Refusal.write(name);
  }

  private static void checkSettable(String key) {
    if (!Refusal.settable(key)) {
      throw Refusal.setting(key);
    }
  }

  /** What Spark itself sets in a client's session (the Thrift server's result format, Parquet field ids). */
  private static final Set<String> SET_BY_SPARK = Set.of("spark.sql.datetime.java8API.enabled",
      "spark.sql.binaryOutputStyle", "spark.sql.parquet.fieldId.read.enabled",
      "spark.sql.parquet.fieldId.write.enabled");

  /** Settings changed without SET (a JDBC URL's ?key=value, Spark Connect's config calls) end up here. */
  private static void checkSettings(SparkSession session) {
    for (Map.Entry<String, String> setting : asJava(session.sessionState().conf().getAllConfs()).entrySet()) {
      if (!setting.getValue().equals(serverSettings.get(setting.getKey())) && !SET_BY_SPARK.contains(setting.getKey())) {
        checkSettable(setting.getKey());
      }
    }
  }

  /** The locations of the tables in the catalog: the lake's, registered by the server, as Hadoop paths. */
  private static Set<String> lakeTables(SparkSession session) {
    ExternalCatalog catalog = session.sharedState().externalCatalog();
    Set<String> locations = new HashSet<>();
    for (String database : asJava(catalog.listDatabases())) {
      for (String table : asJava(catalog.listTables(database))) {
        locations.add(new Path(catalog.getTable(database, table).location()).toString());
      }
    }
    return locations;
  }

  /** A table's folder or a path in it: Delta reads its own log and checkpoints in the client's session. */
  private static boolean inLakeTable(Set<String> tables, String path) {
    return tables.stream().anyMatch(table -> path.equals(table) || path.startsWith(table + "/"));
  }

  /** Every node of the plan, its subqueries and temporary views' plans included. */
  private static void checkReads(Set<String> tables, LogicalPlan node) {
    String name = node.getClass().getSimpleName();
    if (CLIENT_CODE_NODES.matcher(name).matches()) {
      throw Refusal.clientCode(name);
    }
    if (node instanceof LogicalRelation relation) {
      if (!(relation.relation() instanceof HadoopFsRelation files)) {
        throw Refusal.notATable("reading " + relation.relation().getClass().getSimpleName());
      }
      for (Path root : asJava(files.location().rootPaths())) {
        if (!inLakeTable(tables, root.toString())) {
          throw Refusal.notATable("reading " + root);
        }
      }
    } else if (node instanceof DataSourceV2Relation relation) {
      String location = relation.table().properties().get("location");
      if (location == null || !inLakeTable(tables, new Path(location).toString())) {
        throw Refusal.notATable("reading " + relation.table().name());
      }
    } else if (name.startsWith("Streaming")) {
      throw Refusal.notATable("a streaming read");
    }
    for (Expression expression : asJava(node.expressions())) {
      checkExpression(expression);
    }
    if (node instanceof CreateViewCommand view) {
      checkReads(tables, view.plan());
    }
    for (LogicalPlan child : asJava(node.children())) {
      checkReads(tables, child);
    }
    for (LogicalPlan subquery : asJava(node.subqueries())) {
      checkReads(tables, subquery);
    }
  }

  private static void checkExpression(Expression expression) {
    String name = expression.getClass().getSimpleName();
    if (CLIENT_CODE_EXPRESSIONS.matcher(name).matches()) {
      throw Refusal.clientCode(expression.prettyName() + "()");
    }
    for (Expression child : asJava(expression.children())) {
      checkExpression(child);
    }
  }

  /**
   * spark.sql.runSQLOnFiles is off on the endpoints, so text.`/etc/passwd` would fail as an unknown
   * table; this says why instead, before Spark reports it.
   */
  private static final class RefuseSqlOnFiles extends Rule<LogicalPlan> {
    private final SparkSession session;

    RefuseSqlOnFiles(SparkSession session) {
      this.session = session;
    }

    @Override
    public LogicalPlan apply(LogicalPlan plan) {
      if (!TRUSTED.contains(session)) {
        refuse(plan);
      }
      return plan;
    }

    private static void refuse(LogicalPlan node) {
      if (node instanceof UnresolvedRelation relation && relation.multipartIdentifier().size() == 2) {
        String format = relation.multipartIdentifier().apply(0);
        String path = relation.multipartIdentifier().apply(1);
        if (path.contains("/") || path.contains(":")) {
          throw Refusal.notATable("SQL on files (" + format + ".`" + path + "`)");
        }
      }
      for (LogicalPlan child : asJava(node.children())) {
        refuse(child);
      }
      for (LogicalPlan subquery : asJava(node.subqueries())) {
        refuse(subquery);
      }
    }
  }
}
