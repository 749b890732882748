"""Spark's scratch files (jar copies, shuffle blocks) stay inside the warehouse, not in /tmp."""

from spark_jobs.server import ServerConfig, spark_conf


def test_a_local_server_keeps_its_scratch_files_in_the_warehouse(spark_resource, lake):
    cfg = spark_resource.server_config()
    lake.spark.range(1000).repartition(4).count()

    assert spark_conf(cfg)["spark.local.dir"] == str(cfg.scratch_dir)
    assert any(p.name.startswith("spark-") for p in cfg.scratch_dir.iterdir())


def test_a_cluster_master_keeps_its_own_local_dirs(tmp_path):
    cfg = ServerConfig(warehouse=tmp_path, master="spark://head:7077")

    assert "spark.local.dir" not in spark_conf(cfg)
